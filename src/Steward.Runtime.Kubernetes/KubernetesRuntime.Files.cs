using System.Runtime.ExceptionServices;
using System.Text;

namespace Steward.Runtime.Kubernetes;

/// <summary>
/// What a restore does to an instance's files, done in its pod: renames, removals and a tool fed with the backup's
/// verified plaintext (<c>tar -x</c>, a file write). The broker streams the bytes through the exec's standard input
/// as frames (<see cref="FramedInput"/>): no file is written beside the broker, and nothing secret is on a command line.
/// </summary>
public sealed partial class KubernetesRuntime
{
    /// <summary>
    /// Reads <see cref="FramedInput"/>'s frames into the tool's standard input; the tool's exit code is the script's,
    /// and a stream without its end mark fails with 3 whatever the tool made of it (tar may take a cut archive for a
    /// whole one; a file write surely does).
    /// </summary>
    private const string FrameReader = """
        st=$(mktemp) || exit 111
        frames() {
          while IFS= read -r n; do
            case $n in
              0) echo end > "$st"; return 0 ;;
              ''|*[!0-9]*) return 1 ;;
            esac
            head -c "$n" || return 1
          done
          return 1
        }
        """;

    public async Task<ToolResult> RunToolWithInputAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, Func<Stream, CancellationToken, Task> input, CancellationToken cancellationToken)
    {
        var id = IdOf(paths.Root);
        await WaitForManagerAsync(id, cancellationToken);
        var script = new StringBuilder().Append("cd ").Append(Quote(paths.Root)).Append(" || exit 111\n").Append(FrameReader).Append('\n')
            .Append("frames | setpriv --reuid=").Append(Quote(_options.ServiceUser)).Append(" --regid=").Append(Quote(_options.ServiceUser))
            .Append(" --init-groups ").Append(Quote(fileName));
        foreach (var argument in arguments)
        {
            script.Append(' ').Append(Quote(argument));
        }

        script.Append(" 2>&1\n").Append("""
            rc=$?; end=$(cat "$st"); rm -f "$st"
            [ "$rc" -ne 0 ] && exit "$rc"
            [ "$end" = end ] || { echo "the stream into the pod ended without its end mark (aborted by the broker, or the connection was cut)"; exit 3; }
            exit 0
            """);

        ExceptionDispatchInfo? failed = null;
        var result = await ExecAsync(
            id,
            script.ToString(),
            async (stdin, ct) =>
            {
                await using var framed = new FramedInput(stdin);
                try
                {
                    await input(framed, ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested || cancellationToken.IsCancellationRequested)
                {
                    // The tool must never see a clean end of a failed input: the pod's reader is told, then the tool ends.
                    // (Cancelled by the exec alone, the script ended first: its exit code and output are the answer.)
                    failed = ExceptionDispatchInfo.Capture(ex);
                    await framed.AbortAsync();
                    return;
                }

                await framed.EndAsync(ct);
            },
            cancellationToken);
        failed?.Throw();
        return result;
    }

    public IReadOnlyDictionary<string, string> ReadFiles(string directory)
    {
        // One line per file, its name and text base64-encoded: nothing in them can break the lines apart.
        var script = $$"""
            d={{Quote(directory)}}
            [ -d "$d" ] || exit 0
            for f in "$d"/*; do [ -f "$f" ] && printf '%s %s\n' "$(basename "$f" | tr -d '\n' | base64 -w0)" "$(base64 -w0 < "$f")"; done
            exit 0
            """;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Fact(new InstancePaths(RootFor(IdOf(directory))), script, "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, text) = line.Split(' ') is [var n, var t] ? (n, t) : (line.Trim(), string.Empty);
            files[Encoding.UTF8.GetString(Convert.FromBase64String(name))] = Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }

        return files;
    }

    public async Task CopyFilesAsync(string source, string target, CancellationToken cancellationToken)
    {
        var id = IdOf(source);
        if (IdOf(target) != id)
        {
            throw new ArgumentException($"{source} and {target} are not directories of the same instance", nameof(target));
        }

        var script = $$"""
            s={{Quote(source)}}; t={{Quote(target)}}
            [ -d "$s" ] || exit 0
            mkdir -p "$t" && chmod 700 "$t" && chown {{Quote(_options.ServiceUser + ":")}} "$t" || exit 1
            for f in "$s"/*; do [ -f "$f" ] || continue; cp -p "$f" "$t/" || exit 1; done
            """;
        await CheckedAsync(id, script, $"copying the files of {source} to {target}", cancellationToken);
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) =>
        (await CheckedAsync(IdOf(path), $"if [ -e {Quote(path)} ]; then echo yes; else echo no; fi", $"looking for {path}", cancellationToken)).Trim() == "yes";

    public async Task MoveAsync(string source, string destination, CancellationToken cancellationToken)
    {
        var id = IdOf(source);
        if (IdOf(destination) != id)
        {
            throw new ArgumentException($"{source} and {destination} are not files of the same instance: a move is a rename in one volume", nameof(destination));
        }

        // -T: onto the destination's name, never into it when it is a directory.
        await CheckedAsync(id, $"mv -T {Quote(source)} {Quote(destination)}", $"renaming {source} to {destination}", cancellationToken);
    }

    public async Task DeleteDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        var id = IdOf(path);
        if (path.TrimEnd('/') == RootFor(id))
        {
            throw new ArgumentException($"{path} is the instance's whole place; DeleteAsync removes that", nameof(path));
        }

        await CheckedAsync(id, $"rm -rf {Quote(path)}", $"removing {path}", cancellationToken);
    }
}

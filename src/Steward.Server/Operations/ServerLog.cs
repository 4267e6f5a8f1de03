using System.Text;
using Steward.Runtime;

namespace Steward.Server.Operations;

/// <summary>Reads the end of an instance's server log, for failure descriptions.</summary>
internal static class ServerLog
{
    public static string Tail(InstancePaths paths, int lines = 3)
    {
        try
        {
            using var stream = File.OpenRead(paths.LogFile);
            stream.Seek(Math.Max(0, stream.Length - 4096), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = reader.ReadToEnd();
            return string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no server log)";
        }
    }

    public static string Describe(ProcessStatus status) => status switch
    {
        ProcessStatus.Running r => $"running as pid {r.Pid}",
        ProcessStatus.Exited { Signal: { } s } => $"killed by signal {s}",
        ProcessStatus.Exited { ExitCode: { } c } => $"exited with code {c}",
        ProcessStatus.Exited => "ended with unknown status",
        _ => "not running",
    };

    /// <summary>The log lines written since the server's last start (the shim marks each start), at most <paramref name="max"/>.</summary>
    public static IReadOnlyList<string> SinceLastStart(InstancePaths paths, int max = 200)
    {
        try
        {
            using var stream = File.OpenRead(paths.LogFile);
            stream.Seek(Math.Max(0, stream.Length - (256 * 1024)), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var start = Array.FindLastIndex(lines, l => l.StartsWith("--- steward-shim: starting", StringComparison.Ordinal));
            return lines.Skip(start + 1).TakeLast(max).Select(l => l.TrimEnd('\r')).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }
}

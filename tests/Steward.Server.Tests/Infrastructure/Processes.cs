using System.Globalization;

namespace Steward.Server.Tests.Infrastructure;

/// <summary>Finds and kills processes through /proc, the way tests check "no orphan is left".</summary>
internal static class Processes
{
    /// <summary>Live (non-zombie) processes whose working directory is under <paramref name="root"/>.</summary>
    public static IReadOnlyList<int> Under(string root)
    {
        var prefix = root.TrimEnd('/') + "/";
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            var cwd = WorkingDirectory(pid);
            if (cwd is not null && (cwd + "/").StartsWith(prefix, StringComparison.Ordinal) && IsAlive(pid))
            {
                found.Add(pid);
            }
        }

        return found;
    }

    /// <summary>Runs a tool to its end; fails the test with its standard error unless it exits 0.</summary>
    public static async Task RunAsync(string file, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var err = await p.StandardError.ReadToEndAsync();
        await output;
        await p.WaitForExitAsync();
        p.ExitCode.ShouldBe(0, $"{file} {string.Join(' ', args)}: {err}");
    }

    /// <summary>A process's working directory; null when it is gone or cannot be read.</summary>
    public static string? WorkingDirectory(int pid)
    {
        try
        {
            return Directory.ResolveLinkTarget($"/proc/{pid}/cwd", false)?.FullName;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Command lines of <see cref="Under"/>'s processes.</summary>
    public static IReadOnlyList<string> CommandLinesUnder(string root) =>
        Under(root).Select(CommandLine).Where(c => c.Length > 0).ToList();

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[stat.LastIndexOf(')') + 2];
            return state != 'Z' && state != 'X';
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static void Kill(int pid, int signal = 9)
    {
        using var p = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        p.WaitForExit();
    }

    public static void KillAllUnder(string root)
    {
        foreach (var pid in Under(root))
        {
            Kill(pid);
        }

        // SIGKILL is delivered at once, but the kernel reaps asynchronously: wait until none is left.
        SpinWait.SpinUntil(() => Under(root).Count == 0, TimeSpan.FromSeconds(5));
    }
}

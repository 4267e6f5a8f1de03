using System.Globalization;

namespace Steward.Runtime.Local;

/// <summary>Reads process facts from /proc.</summary>
internal static class ProcFs
{
    /// <summary>True when the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => State(pid) is { } state && state != 'Z' && state != 'X';

    /// <summary>The process's scheduler state letter (R, S, D, T, t, Z, ...); null when it does not exist.</summary>
    public static char? State(int pid) => Stat(pid)?.State;

    /// <summary>
    /// The process's state letter and start time (clock ticks after boot: with the pid, what tells it apart from a
    /// later process given the same pid), from one read of /proc/PID/stat into a stack buffer; null when it does not exist.
    /// </summary>
    public static (char State, long StartTicks)? Stat(int pid)
    {
        Span<byte> buffer = stackalloc byte[2048];
        int length;
        try
        {
            using var handle = File.OpenHandle($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            length = RandomAccess.Read(handle, buffer, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) S ppid ..." with comm possibly holding ')' and spaces: the fields follow the last ')'.
        var stat = buffer[..length];
        var close = stat.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= stat.Length)
        {
            return null;
        }

        var state = (char)stat[close + 2];
        var rest = stat[(close + 2)..];
        for (var field = 3; field < 22; field++)
        {
            var space = rest.IndexOf((byte)' ');
            if (space < 0)
            {
                return null;
            }

            rest = rest[(space + 1)..];
        }

        var end = rest.IndexOf((byte)' ');
        return System.Buffers.Text.Utf8Parser.TryParse(end < 0 ? rest : rest[..end], out long start, out _) ? (state, start) : null;
    }

    /// <summary>A state letter as ps and /proc/PID/status spell it out.</summary>
    public static string Describe(char state) => state switch
    {
        'R' => "R (running)",
        'S' => "S (sleeping)",
        'D' => "D (disk sleep)",
        'T' => "T (stopped)",
        't' => "t (tracing stop)",
        'Z' => "Z (zombie)",
        'X' => "X (dead)",
        'I' => "I (idle)",
        _ => state + " (unknown)",
    };

    /// <summary>True for the states in which a process runs no code until it is continued (SIGSTOP, a tracer).</summary>
    public static bool IsStopped(char state) => state is 'T' or 't';

    /// <summary>The process's working directory, or null when it cannot be read.</summary>
    public static string? WorkingDirectory(int pid)
    {
        try
        {
            return Directory.ResolveLinkTarget($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cwd", returnFinalTarget: false)?.FullName;
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

    /// <summary>Every live process whose working directory is <paramref name="root"/> or below it.</summary>
    public static IReadOnlyList<int> ProcessesUnder(string root)
    {
        var prefix = root.TrimEnd('/') + "/";
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            var cwd = WorkingDirectory(pid);
            if (cwd is not null && (cwd == root.TrimEnd('/') || cwd.StartsWith(prefix, StringComparison.Ordinal)) && IsAlive(pid))
            {
                found.Add(pid);
            }
        }

        return found;
    }

    /// <summary>Reads an integer from a small file; null when absent or malformed.</summary>
    public static int? ReadInt(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

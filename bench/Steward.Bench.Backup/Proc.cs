using System.Globalization;

namespace Steward.Bench.Backup;

/// <summary>What /proc says about one process: CPU in clock ticks, resident memory, parent.</summary>
internal readonly record struct ProcStat(int Pid, int Parent, string Command, long UserTicks, long SystemTicks, long ChildUserTicks, long ChildSystemTicks)
{
    /// <summary>USER_HZ; 100 on every Linux this runs on (getconf CLK_TCK).</summary>
    public const double TicksPerSecond = 100;

    public double OwnSeconds => (UserTicks + SystemTicks) / TicksPerSecond;

    public double ReapedChildrenSeconds => (ChildUserTicks + ChildSystemTicks) / TicksPerSecond;

    public static ProcStat? Read(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var open = text.IndexOf('(', StringComparison.Ordinal);
            var close = text.LastIndexOf(')');
            var f = text[(close + 2)..].Split(' ');
            long L(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
            return new ProcStat(pid, int.Parse(f[1], CultureInfo.InvariantCulture), text[(open + 1)..close], L(11), L(12), L(13), L(14));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>VmRSS in bytes, or null when the process is gone.</summary>
    public static long? Rss(int pid) => StatusField(pid, "VmRSS:");

    /// <summary>VmHWM (peak resident set since start) in bytes.</summary>
    public static long? PeakRss(int pid) => StatusField(pid, "VmHWM:");

    /// <summary>Every live process whose ancestry leads to <paramref name="root"/>.</summary>
    public static IReadOnlyList<ProcStat> Descendants(int root)
    {
        var all = new List<ProcStat>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Read(pid) is { } s)
            {
                all.Add(s);
            }
        }

        var children = all.ToLookup(s => s.Parent);
        var found = new List<ProcStat>();
        var queue = new Queue<int>([root]);
        while (queue.Count > 0)
        {
            foreach (var child in children[queue.Dequeue()])
            {
                found.Add(child);
                queue.Enqueue(child.Pid);
            }
        }

        return found;
    }

    private static long? StatusField(int pid, string name)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

using System.Globalization;

namespace Steward.Bench.Backup;

/// <summary>
/// The broker's CPU by thread name (<c>/proc/PID/task/TID/stat</c>: comm, utime, stime), user and system apart,
/// so a restore that costs twice the CPU of another says which threads spent it (the codec's, the thread pool's
/// workers, the GC's). Threads are remembered by id, so one that ended during the run still counts.
/// </summary>
internal sealed class ThreadCpu
{
    private readonly int _pid;
    private readonly Dictionary<int, (string Name, long User, long System)> _start = [];
    private readonly Dictionary<int, (string Name, long User, long System)> _last = [];

    public ThreadCpu(int pid)
    {
        _pid = pid;
        foreach (var t in Read())
        {
            _start[t.Tid] = (t.Name, t.User, t.System);
        }
    }

    /// <summary>Takes one sample; call it often enough that short-lived threads are seen.</summary>
    public void Sample()
    {
        foreach (var t in Read())
        {
            _last[t.Tid] = (t.Name, t.User, t.System);
        }
    }

    /// <summary>CPU seconds spent since the start, by thread name (numbered names folded: ".NET TP Worker" ×n), busiest first.</summary>
    public IReadOnlyList<(string Name, int Threads, double User, double System)> Spent()
    {
        Sample();
        return _last
            .Select(t => (t.Value.Name, User: t.Value.User - (_start.TryGetValue(t.Key, out var s) ? s.User : 0), System: t.Value.System - (_start.TryGetValue(t.Key, out s) ? s.System : 0)))
            .Where(t => t.User + t.System > 0)
            .GroupBy(t => t.Name.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', '#'))
            .Select(g => (g.Key, g.Count(), g.Sum(t => t.User) / ProcStat.TicksPerSecond, g.Sum(t => t.System) / ProcStat.TicksPerSecond))
            .OrderByDescending(g => g.Item3 + g.Item4)
            .ToList();
    }

    /// <summary>One line for the console: "name ×n u+s".</summary>
    public string Describe() => string.Join(", ", Spent().Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name} ×{t.Threads} {t.User:F2}u+{t.System:F2}s")));

    private IEnumerable<(int Tid, string Name, long User, long System)> Read()
    {
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories($"/proc/{_pid}/task").ToList();
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var dir in tasks)
        {
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            var open = text.IndexOf('(', StringComparison.Ordinal);
            var close = text.LastIndexOf(')');
            var f = text[(close + 2)..].Split(' ');
            yield return (int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture), text[(open + 1)..close], long.Parse(f[11], CultureInfo.InvariantCulture), long.Parse(f[12], CultureInfo.InvariantCulture));
        }
    }
}

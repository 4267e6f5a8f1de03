using System.Globalization;

namespace Steward.Server.Supervision;

/// <summary>
/// The kernel's count of OOM kills in the cgroup Steward and its instances run in (cgroup v2
/// memory.events). An increase around a SIGKILL is the OOM killer's signature; where the file cannot be
/// read, OOM kills cannot be told from other SIGKILLs and are reported as killed-by-signal.
/// </summary>
internal sealed class OomCounter
{
    private readonly string? _eventsFile = Locate();
    private long _seen;

    public OomCounter() => _seen = Read() ?? 0;

    /// <summary>True when OOM kills happened since the last call.</summary>
    public bool KilledSinceLastCheck()
    {
        var now = Read();
        if (now is null)
        {
            return false;
        }

        var increased = now > _seen;
        _seen = now.Value;
        return increased;
    }

    private long? Read()
    {
        try
        {
            if (_eventsFile is null)
            {
                return null;
            }

            foreach (var line in File.ReadLines(_eventsFile))
            {
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(9), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private static string? Locate()
    {
        try
        {
            var line = File.ReadLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal));
            var file = line is null ? null : Path.Combine("/sys/fs/cgroup", line[3..].TrimStart('/'), "memory.events");
            return file is not null && File.Exists(file) ? file : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

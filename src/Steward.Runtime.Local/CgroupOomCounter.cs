using System.Globalization;

namespace Steward.Runtime.Local;

/// <summary>
/// The kernel's count of OOM kills in the cgroup Steward and its instances run in (cgroup v2
/// memory.events). An increase around a SIGKILL is the OOM killer's signature; where the file cannot be
/// read, OOM kills cannot be told from other SIGKILLs.
/// </summary>
internal sealed class CgroupOomCounter
{
    private readonly string? _eventsFile = Locate();

    /// <summary>The running total of OOM kills, or null when the cgroup's counter cannot be read.</summary>
    public long? Read()
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
        catch (UnauthorizedAccessException)
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

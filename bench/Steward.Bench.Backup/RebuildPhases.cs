using System.Globalization;
using System.Text.RegularExpressions;

namespace Steward.Bench.Backup;

/// <summary>
/// What the rebuild's restore step is made of, from the logs it leaves: the broker's restore pipeline (its own
/// duration) and the PostgreSQL server's log of its start (the sync of the restored data directory before recovery,
/// the wait for the first WAL segment, replay and promotion).
/// </summary>
internal static partial class RebuildPhases
{
    public static List<(string Phase, double Seconds)> Read(string brokerLog, string serverLogFile, string instanceId, string backupId)
    {
        var phases = new List<(string, double)>();
        var finished = brokerLog.Split('\n').LastOrDefault(l => l.Contains($"Restore of '{instanceId}/{backupId}' finished", StringComparison.Ordinal));
        if (finished is not null && Duration().Match(finished) is { Success: true } d)
        {
            phases.Add(("streaming the backup into the new data directory (storage → age → zstd → digest → unpack)", TimeSpan.Parse(d.Groups[1].Value, CultureInfo.InvariantCulture).TotalSeconds));
        }

        if (!File.Exists(serverLogFile))
        {
            return phases;
        }

        var lines = File.ReadAllLines(serverLogFile);
        var start = Array.FindLastIndex(lines, l => l.Contains("listening on IPv4", StringComparison.Ordinal));
        if (start < 0)
        {
            return phases;
        }

        DateTime? At(Func<string, bool> match) => lines.Skip(start).FirstOrDefault(match) is { Length: >= 23 } line
            && DateTime.TryParseExact(line[..23], "yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
        var listening = At(_ => true);
        var recovery = At(l => l.Contains("starting point-in-time recovery", StringComparison.Ordinal) || l.Contains("starting backup recovery", StringComparison.Ordinal) || l.Contains("starting archive recovery", StringComparison.Ordinal));
        var firstWal = At(l => l.Contains("restored log file", StringComparison.Ordinal));
        var ready = At(l => l.Contains("database system is ready to accept connections", StringComparison.Ordinal));
        if (listening is { } a && recovery is { } b && firstWal is { } c && ready is { } e)
        {
            phases.Add(("server started → recovery begins (PostgreSQL syncs the restored data directory)", (b - a).TotalSeconds));
            phases.Add(("recovery waits for its first WAL segment", (c - b).TotalSeconds));
            phases.Add(("replay to the end of the backup, new timeline, accepting connections", (e - c).TotalSeconds));
        }

        return phases;
    }

    [GeneratedRegex(@"bytes restored, (\d{2}:\d{2}:\d{2}\.\d+)")]
    private static partial Regex Duration();
}

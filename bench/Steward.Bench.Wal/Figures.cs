using System.Globalization;
using System.Text.RegularExpressions;

namespace Steward.Bench.Wal;

/// <summary>Everything one run measured.</summary>
internal sealed record Figures(Options Options, DateTimeOffset Date, double Minutes, MachineInfo Machine, string? LoadAfter, long DatabaseBytes, IReadOnlyList<Series> Series, Pitr Pitr);

/// <summary>One pgbench series under one archive_command: throughput, WAL written, and each segment's archive lag.</summary>
internal sealed record Series(string Name, double Tps, long WalBytes, IReadOnlyList<double> Lags, double DrainSeconds);

/// <summary>The point-in-time restore of both tools to the same target over the same WAL.</summary>
internal sealed record Pitr(long WalBytes, string Target, double StewardSeconds, string StewardRows, IReadOnlyList<Step> StewardSteps, double PgBackRestRestoreSeconds, double PgBackRestRecoverySeconds, string PgBackRestRows)
{
    /// <summary>WAL files the broker served to restore_command from its read-ahead spool, and read from storage on request.</summary>
    public (double Renamed, double Spool, double Storage) Served { get; init; }
}

/// <summary>One step of Steward's restore operation and how long it took, from the broker's log.</summary>
internal sealed record Step(string Name, double Seconds)
{
    private static readonly Regex Line = new(@"^(?<at>\S+Z) info: Steward\.Server\.Operations\.InstanceWorkflows\[300[12]\] Operation (?<op>\S+) \(Restore\) on instance \S+(?:: (?<step>.*)| succeeded)$", RegexOptions.Multiline);

    public static IReadOnlyList<Step> FromLog(string log, string operation)
    {
        var marks = Line.Matches(log).Where(m => m.Groups["op"].Value == operation)
            .Select(m => (At: DateTimeOffset.Parse(m.Groups["at"].Value, CultureInfo.InvariantCulture), Name: m.Groups["step"].Success ? m.Groups["step"].Value.Trim() : "done")).ToList();
        return [.. marks.Zip(marks.Skip(1), (a, b) => new Step(a.Name, (b.At - a.At).TotalSeconds))];
    }
}

internal static class Stats
{
    /// <summary>Nearest-rank percentile of sorted values; NaN when there are none.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Steward.Bench.Backup;

/// <summary>Durations the broker logs about its own pipelines.</summary>
internal static partial class BrokerLog
{
    /// <summary>The streaming part of every restore: "Restore of 'key' finished: …, hh:mm:ss.fffffff".</summary>
    public static List<double> RestorePipelineSeconds(string log) =>
        RestoreFinished().Matches(log).Select(m => TimeSpan.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture).TotalSeconds).ToList();

    [GeneratedRegex(@"Restore of '(?!archive/)[^']+' finished: succeeded True, \d+ bytes restored, (\d\d:\d\d:\d\d\.\d+)")]
    private static partial Regex RestoreFinished();
}

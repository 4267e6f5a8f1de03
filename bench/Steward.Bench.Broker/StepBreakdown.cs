using System.Globalization;
using System.Text.RegularExpressions;

namespace Steward.Bench.Broker;

/// <summary>
/// Median time of each operation step, read back from the broker's own log: it logs a line (millisecond
/// timestamps) when a step starts and when the operation succeeds.
/// </summary>
internal static partial class StepBreakdown
{
    public sealed record Row(string Service, string Kind, string Step, double P50, double P95);

    public static IReadOnlyList<Row> FromLog(string log, string instancePrefix)
    {
        var byOperation = new Dictionary<string, List<(DateTimeOffset At, string Service, string Kind, string Step)>>();
        foreach (var line in log.Split('\n'))
        {
            var m = LineRegex().Match(line.TrimEnd('\r'));
            if (!m.Success || !m.Groups["inst"].Value.StartsWith(instancePrefix, StringComparison.Ordinal) || m.Groups["inst"].Value.EndsWith("warmup", StringComparison.Ordinal))
            {
                continue;
            }

            var at = DateTimeOffset.Parse(m.Groups["ts"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var service = m.Groups["inst"].Value[instancePrefix.Length..].Split('-')[0];
            var step = m.Groups["desc"].Success ? m.Groups["desc"].Value : "(end)";
            if (!byOperation.TryGetValue(m.Groups["op"].Value, out var lines))
            {
                byOperation[m.Groups["op"].Value] = lines = [];
            }

            lines.Add((at, service, m.Groups["kind"].Value, step));
        }

        var samples = new Dictionary<(string Service, string Kind, string Step), List<double>>();
        var order = new List<(string, string, string)>();
        foreach (var lines in byOperation.Values)
        {
            for (var i = 0; i + 1 < lines.Count; i++)
            {
                var key = (lines[i].Service, lines[i].Kind, lines[i].Step);
                if (!samples.TryGetValue(key, out var list))
                {
                    samples[key] = list = [];
                    order.Add(key);
                }

                list.Add((lines[i + 1].At - lines[i].At).TotalMilliseconds);
            }
        }

        return order.Select(k =>
        {
            var s = Stats.Of(samples[k]);
            return new Row(k.Item1, k.Item2, k.Item3, s.P50, s.P95);
        }).ToList();
    }

    [GeneratedRegex(@"^(?<ts>\d{4}-\d\d-\d\dT[\d:.]+Z) \w+: [^\[]+\[(3001|3002)\] Operation (?<op>\S+) \((?<kind>\w+)\) on instance (?<inst>\S+?)(?:: (?<desc>.*)| succeeded)$")]
    private static partial Regex LineRegex();
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Steward.Server.Tests.Observability;

/// <summary>The samples of a Prometheus text exposition, parsed so tests can ask for values by name and labels.</summary>
public sealed partial class Exposition
{
    private readonly List<Sample> _samples = [];

    private Exposition(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var m = SampleLine().Match(line);
            m.Success.ShouldBeTrue($"not a sample line: {line}");
            var labels = new Dictionary<string, string>();
            foreach (Match l in LabelPair().Matches(m.Groups["labels"].Value))
            {
                labels[l.Groups["k"].Value] = l.Groups["v"].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            }

            _samples.Add(new Sample(m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    public IReadOnlyList<Sample> Samples => _samples;

    public static Exposition Parse(string text) => new(text);

    /// <summary>The one sample with this name whose labels include all of <paramref name="labels"/>; fails when there is none or several.</summary>
    public double Value(string name, params (string Key, string Value)[] labels)
    {
        var matches = Find(name, labels).ToList();
        matches.Count.ShouldBe(1, $"{name}{{{string.Join(',', labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} in:\n{Text}");
        return matches[0].Value;
    }

    public IEnumerable<Sample> Find(string name, params (string Key, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(\\.|[^""\\])*)""")]
    private static partial Regex LabelPair();
}

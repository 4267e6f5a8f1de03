namespace Steward.Bench.Supervision;

/// <summary>Nearest-rank p50 and the maximum of a small sample, in seconds.</summary>
internal sealed record Stats(int Count, double P50, double Max)
{
    public static Stats Of(IEnumerable<TimeSpan?> values)
    {
        var sorted = values.Where(v => v is not null).Select(v => v!.Value.TotalSeconds).Order().ToList();
        return sorted.Count == 0
            ? new Stats(0, double.NaN, double.NaN)
            : new Stats(sorted.Count, sorted[(int)Math.Ceiling(0.5 * sorted.Count) - 1], sorted[^1]);
    }

    public string Pair => Count == 0 ? "–" : $"{S(P50)} / {S(Max)}";

    public static string S(double seconds) => double.IsNaN(seconds)
        ? "–"
        : seconds.ToString(Math.Abs(seconds) < 10 ? "0.00" : "0.0", System.Globalization.CultureInfo.InvariantCulture);
}

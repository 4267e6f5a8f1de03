namespace Steward.Bench.Broker;

/// <summary>Order statistics of one measured series, in milliseconds (nearest-rank percentiles).</summary>
internal sealed record Stats(int Count, int Failures, double P50, double P95, double Max)
{
    public static Stats Of(IReadOnlyCollection<double> samples, int failures = 0)
    {
        if (samples.Count == 0)
        {
            return new Stats(0, failures, double.NaN, double.NaN, double.NaN);
        }

        var sorted = samples.Order().ToArray();
        return new Stats(sorted.Length, failures, Rank(sorted, 0.50), Rank(sorted, 0.95), sorted[^1]);
    }

    private static double Rank(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

using System.Globalization;

namespace Steward.Bench.Broker;

/// <summary>A few sentences that read the figures of this run, with this run's numbers.</summary>
internal static class Interpretation
{
    public static IEnumerable<string> For(Figures f)
    {
        double Step(string service, string kind, string step) =>
            f.Steps.FirstOrDefault(s => s.Service == service && s.Kind == kind && s.Step == step)?.P50 ?? double.NaN;
        static string Ms(double ms) => Report.Ms(ms) + " ms";
        static string X(double r) => r.ToString("F2", CultureInfo.InvariantCulture) + "×";

        var pg = f.PostgreSqlBaseline;
        yield return $"- **PostgreSQL from scratch**: by hand, `initdb` alone is {Ms(pg.Init.P50)} of the {Ms(pg.Usable.P50)} to a first `SELECT 1` " +
            $"({100 * pg.Init.P50 / pg.Usable.P50:F0} %). Steward's step \"creating the data directory\" ({Ms(Step("postgresql", "Provision", "creating the data directory"))}) " +
            "is the same `initdb` plus the `app` database and its owner role made by the server in single-user mode. On top of it Steward spends " +
            $"{Ms(Step("postgresql", "Provision", "starting the server"))} starting the server (by hand: {Ms(pg.Start.P50)} from spawn to `SELECT 1`), " +
            $"{Ms(Step("postgresql", "Provision", "creating the application database"))} checking that the `app` database and role are in place (one session), " +
            $"plus the binding's role ({Ms(Step("postgresql", "Bind", "creating credentials"))}): {X(f.PostgreSql.Usable.P50 / pg.Usable.P50)} the manual time at the median.";
        if (f.WarmPool is { } pool)
        {
            double PoolStep(string step) => pool.Steps.FirstOrDefault(s => s.Service == "postgresql" && s.Kind == "Provision" && s.Step == step)?.P50 ?? double.NaN;
            yield return $"- **PostgreSQL from the warm pool**: usable after {Ms(pool.PostgreSql.Usable.P50)} at the median ({X(pool.PostgreSql.Usable.P50 / f.PostgreSql.Usable.P50)} of from scratch, " +
                $"{X(pool.PostgreSql.Usable.P50 / pg.Usable.P50)} of `initdb` + start by hand); provisioned after {Ms(pool.PostgreSql.Provisioned.P50)} (p95 {Ms(pool.PostgreSql.Provisioned.P95)}). " +
                $"Taking the entry and renaming it into place is {Ms(PoolStep("creating the data directory"))}; what is left is the server's start ({Ms(PoolStep("starting the server"))}) " +
                $"and the check of the `app` database ({Ms(PoolStep("creating the application database"))}), then the binding and the client's first connection. " +
                $"Refilling one entry at nice 10 took {Ms(pool.Refill.P50)} (p95 {Ms(pool.Refill.P95)}): the pool covers bursts of its size, and provisions faster than that refill from scratch.";
        }

        var redis = f.RedisBaseline;
        var redisSteps = f.Steps.Where(s => s.Service == "redis" && s.Kind == "Provision").Sum(s => s.P50);
        yield return $"- **Redis** answers {Ms(redis.Usable.P50)} after `redis-server` is spawned by hand, so the {X(f.Redis.Usable.P50 / redis.Usable.P50)} " +
            $"ratio has a small denominator. Of Steward's {Ms(f.Redis.Provisioned.P50)} to \"succeeded\", the provisioning steps' medians add up to " +
            $"{Ms(redisSteps)} (starting through the shim, waiting for its pid file and a first probe: {Ms(Step("redis", "Provision", "starting the server"))}); " +
            "the rest is the HTTP round trips, the SQLite write before and after every step, the operation queue and up to one 15 ms poll. " +
            $"Binding ({Ms(Step("redis", "Bind", "creating credentials"))} in the broker) and `AUTH` + `PING` bring it to {Ms(f.Redis.Usable.P50)}.";

        yield return $"- **Deprovisioning** PostgreSQL takes {Ms(f.PostgreSql.Deprovisioned.P50)} against {Ms(pg.Gone.P50)} by hand " +
            $"(stop: {Ms(Step("postgresql", "Deprovision", "stopping the server"))}, deleting the files: {Ms(Step("postgresql", "Deprovision", "deleting the instance's files"))}); " +
            $"Redis {Ms(f.Redis.Deprovisioned.P50)} against {Ms(redis.Gone.P50)}, nearly all of it \"stopping the server\" " +
            $"({Ms(Step("redis", "Deprovision", "stopping the server"))}), which waits for the exit in 50 ms sleeps.";

        var top = f.Polling.Where(p => p.Pollers == f.Polling.Max(q => q.Pollers)).ToList();
        var lastOp = top.First(p => !p.Path.EndsWith("catalog", StringComparison.Ordinal));
        var catalog = top.First(p => p.Path.EndsWith("catalog", StringComparison.Ordinal));
        yield return $"- **last_operation** serves {lastOp.PerSecond:F0} requests/s to {lastOp.Pollers} pollers (p95 {lastOp.Latency.P95:F2} ms), " +
            $"{X(lastOp.PerSecond / catalog.PerSecond)} the catalog's {catalog.PerSecond:F0}/s " +
            (lastOp.PerSecond >= catalog.PerSecond
                ? $"(reading the operation from SQLite costs less than rendering the {catalog.ResponseBytes}-byte catalog)"
                : $"(the state lookup behind it costs more than rendering the {catalog.ResponseBytes}-byte catalog)") +
            ", so polling is nowhere near a bottleneck: a platform polling every few seconds needs a handful of requests per second. " +
            "Load generator and broker share the same cores, so these are lower bounds.";

        var load = double.Parse(f.Machine.LoadAverage.Split(' ')[0], CultureInfo.InvariantCulture);
        var loadAfter = double.Parse(f.LoadAfter.Split(' ')[0], CultureInfo.InvariantCulture);
        if (Math.Max(load, loadAfter) > f.Machine.Cores * 2.0)
        {
            yield return $"- **Noise**: the 1-minute load average was {load:F1} before and {loadAfter:F1} after the run on {f.Machine.Cores} cores " +
                "(other work, such as test suites, was running), so absolute times are inflated and p95/max are noisy; " +
                "Steward and its baseline ran back to back in the same run, so the ratios are the more reliable figure.";
        }
        else if (Math.Max(load, loadAfter) > f.Machine.Cores / 2.0)
        {
            yield return $"- **Load**: the 1-minute load average was {load:F1} before and {loadAfter:F1} after the run on {f.Machine.Cores} cores, " +
                "most of it the run's own work (the warm pool refills at nice 10 while the next instances are provisioned), so p95/max carry that contention; " +
                "Steward and its baseline ran back to back in the same run.";
        }
    }
}

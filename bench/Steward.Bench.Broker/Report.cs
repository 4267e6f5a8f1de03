using System.Globalization;
using System.Text;

namespace Steward.Bench.Broker;

/// <summary>Everything one run measured.</summary>
internal sealed record Figures(
    int Instances,
    int PollSeconds,
    DateTimeOffset Date,
    TimeSpan Duration,
    MachineInfo Machine,
    string LoadAfter,
    ProvisionBench.Result PostgreSql,
    ProvisionBench.Result Redis,
    Baseline.Result PostgreSqlBaseline,
    Baseline.Result RedisBaseline,
    IReadOnlyList<StepBreakdown.Row> Steps,
    IReadOnlyList<PollingBench.Result> Polling)
{
    public WarmPoolFigures? WarmPool { get; init; }
}

/// <summary>The PostgreSQL series with a warm pool: provisioning, its steps, and how long one entry takes to make.</summary>
internal sealed record WarmPoolFigures(ProvisionBench.Result PostgreSql, IReadOnlyList<StepBreakdown.Row> Steps, Stats Refill);

/// <summary>Renders the figures as the broker section of docs/benchmarks.md.</summary>
internal static class Report
{
    public const string Start = "<!-- broker:start -->";
    public const string End = "<!-- broker:end -->";

    public static string Section(Figures f)
    {
        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');
        var pgRatio = f.PostgreSql.Usable.P50 / f.PostgreSqlBaseline.Usable.P50;
        var redisRatio = f.Redis.Usable.P50 / f.RedisBaseline.Usable.P50;

        L(Start);
        L("## Broker: provision-to-usable latency and last_operation throughput");
        L();
        L($"Measured by `bench/Steward.Bench.Broker` on {f.Date:yyyy-MM-dd} (UTC) in {f.Duration.TotalMinutes:F1} min. It starts a real `steward-server` with the");
        L("integration-test harness (temporary data directory, loopback port) and, one instance at a time, for each service:");
        L("**provisioned** = `PUT /v2/service_instances/{id}?accepts_incomplete=true` until `last_operation` (polled every 15 ms) says");
        L("`succeeded`; **usable** = that plus `PUT …/service_bindings/{id}` and a fresh connection with the returned credentials");
        L("doing one round trip (PostgreSQL: Npgsql, no pooling, `SELECT 1`; Redis: `AUTH user pass` + `PING`); **deprovisioned** =");
        L("`DELETE` until `last_operation` says gone (after an unmeasured unbind). The **baseline** is what an operator does by");
        L("hand on the same machine, as the same unprivileged user `steward` (`setpriv`): `initdb -U admin --auth=scram-sha-256");
        L("--pwfile … --no-locale -E UTF8` + `postgres -p PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`, or");
        L("`redis-server --port P --bind 127.0.0.1 --save ''`, polled every 15 ms with the same client until `SELECT 1` / `PING`");
        L($"answers. N = {f.Instances} per series, after one unmeasured warm-up instance each; percentiles are nearest-rank");
        L($"(with N = 20, p95 is the 19th of 20). Ratio = Steward / baseline, from the same run.");
        L();
        L("### Provision-to-usable (ms)");
        L();
        L("| service | Steward provisioned p50 / p95 / max | Steward usable p50 / p95 / max | baseline usable p50 / p95 / max | ratio p50 | ratio p95 | failures |");
        L("|---|---|---|---|---|---|---|");
        L($"| postgresql `standalone` | {Triple(f.PostgreSql.Provisioned)} | {Triple(f.PostgreSql.Usable)} | {Triple(f.PostgreSqlBaseline.Usable)} | **{pgRatio:F2}×** | {f.PostgreSql.Usable.P95 / f.PostgreSqlBaseline.Usable.P95:F2}× | {f.PostgreSql.Usable.Failures} |");
        if (f.WarmPool is { } pool)
        {
            L($"| postgresql `standalone`, warm pool of 2 | {Triple(pool.PostgreSql.Provisioned)} | {Triple(pool.PostgreSql.Usable)} | {Triple(f.PostgreSqlBaseline.Usable)} | **{pool.PostgreSql.Usable.P50 / f.PostgreSqlBaseline.Usable.P50:F2}×** | {pool.PostgreSql.Usable.P95 / f.PostgreSqlBaseline.Usable.P95:F2}× | {pool.PostgreSql.Usable.Failures} |");
        }

        L($"| redis `standalone` | {Triple(f.Redis.Provisioned)} | {Triple(f.Redis.Usable)} | {Triple(f.RedisBaseline.Usable)} | **{redisRatio:F2}×** | {f.Redis.Usable.P95 / f.RedisBaseline.Usable.P95:F2}× | {f.Redis.Usable.Failures} |");
        L();
        L("| series | p50 | p95 | max |");
        L("|---|---|---|---|");
        L($"| baseline postgresql: `initdb` alone | {Ms(f.PostgreSqlBaseline.Init.P50)} | {Ms(f.PostgreSqlBaseline.Init.P95)} | {Ms(f.PostgreSqlBaseline.Init.Max)} |");
        L($"| baseline postgresql: `postgres` spawn → `SELECT 1` | {Ms(f.PostgreSqlBaseline.Start.P50)} | {Ms(f.PostgreSqlBaseline.Start.P95)} | {Ms(f.PostgreSqlBaseline.Start.Max)} |");
        L();
        L("### Deprovision-to-gone (ms)");
        L();
        L("Steward: `DELETE …?accepts_incomplete=true` until `last_operation` answers 410. Baseline: signal the server (SIGINT for");
        L("`postgres`, SIGTERM for `redis-server`, as Steward does), wait for it to exit, remove its directory.");
        L();
        L("| service | Steward p50 / p95 / max | baseline p50 / p95 / max | ratio p50 |");
        L("|---|---|---|---|");
        L($"| postgresql | {Triple(f.PostgreSql.Deprovisioned)} | {Triple(f.PostgreSqlBaseline.Gone)} | {f.PostgreSql.Deprovisioned.P50 / f.PostgreSqlBaseline.Gone.P50:F2}× |");
        L($"| redis | {Triple(f.Redis.Deprovisioned)} | {Triple(f.RedisBaseline.Gone)} | {f.Redis.Deprovisioned.P50 / f.RedisBaseline.Gone.P50:F2}× |");
        L();
        L("Where the broker's provisioning time goes, per step, from the timestamps of the broker's own log (ms resolution;");
        L("the rest of \"provisioned\" is request handling, queueing and the 15 ms poll):");
        L();
        L("| service | operation | step | p50 | p95 |");
        L("|---|---|---|---|---|");
        foreach (var s in f.Steps)
        {
            L($"| {s.Service} | {s.Kind} | {s.Step} | {Ms(s.P50)} | {Ms(s.P95)} |");
        }

        if (f.WarmPool is { } warm)
        {
            L();
            L("With the warm pool (`STEWARD_POOL_POSTGRESQL_SIZE=2`, `STEWARD_POOL_NICE=10`), each provision made once the pool is full again;");
            L($"making one entry (initdb + the application database in single-user mode, at nice 10) took p50 {Ms(warm.Refill.P50)} / p95 {Ms(warm.Refill.P95)} / max {Ms(warm.Refill.Max)} ms (N = {warm.Refill.Count}):");
            L();
            L("| service | operation | step | p50 | p95 |");
            L("|---|---|---|---|---|");
            foreach (var s in warm.Steps.Where(s => s.Kind == "Provision"))
            {
                L($"| {s.Service} (pool) | {s.Kind} | {s.Step} | {Ms(s.P50)} | {Ms(s.P95)} |");
            }
        }

        L();
        L($"### last_operation under concurrent polling ({f.PollSeconds} s per row)");
        L();
        L("One provisioned Redis instance; C pollers, each looping `GET` on its own keep-alive connection (one `HttpClient`),");
        L("with basic auth and `X-Broker-API-Version: 2.17`, after 0.5 s of warm-up. `GET /v2/catalog` (no state access) under the");
        L("same load is the reference; ratio = last_operation / catalog requests per second. The client runs on the same cores.");
        L();
        L("| pollers | endpoint | response bytes | req/s | p50 ms | p95 ms | non-2xx | ratio req/s |");
        L("|---|---|---|---|---|---|---|---|");
        foreach (var group in f.Polling.GroupBy(p => p.Pollers))
        {
            var catalog = group.First(p => p.Path.EndsWith("catalog", StringComparison.Ordinal));
            foreach (var p in group)
            {
                var isCatalog = ReferenceEquals(p, catalog);
                var name = isCatalog ? "`GET /v2/catalog`" : "`GET …/last_operation`";
                L($"| {p.Pollers} | {name} | {p.ResponseBytes} | {p.PerSecond:F0} | {p.Latency.P50:F2} | {p.Latency.P95:F2} | {p.Errors} | {(isCatalog ? "1.00" : (p.PerSecond / catalog.PerSecond).ToString("F2", CultureInfo.InvariantCulture))} |");
            }
        }

        L();
        L("### Machine and reproduction");
        L();
        L($"- {f.Machine.Cores} cores ({f.Machine.Cpu}), {f.Machine.Memory} memory, {f.Machine.Os}");
        L($"- .NET {f.Machine.Dotnet}; {f.Machine.Tools}");
        L($"- load average (1/5/15 min) before: {f.Machine.LoadAverage}, after: {f.LoadAfter}");
        L("- Reproduce (as root, from the repository root, after `dotnet build`):");
        L();
        L("  ```sh");
        L($"  dotnet run -c Release --project bench/Steward.Bench.Broker -- --instances {f.Instances} --write docs/benchmarks.md");
        L("  ```");
        L();
        L("### Reading the figures");
        L();
        foreach (var sentence in Interpretation.For(f))
        {
            L(sentence);
        }

        L(End);
        return sb.ToString();
    }

    /// <summary>Replaces the broker section of the file (or appends it), leaving other sections alone.</summary>
    public static async Task WriteAsync(string path, string section, CancellationToken ct)
    {
        var text = File.Exists(path)
            ? await File.ReadAllTextAsync(path, ct)
            : "# Benchmarks\n\nMeasured figures. Each benchmark owns one section between its own markers and rewrites only that section.\n\n";
        var start = text.IndexOf(Start, StringComparison.Ordinal);
        var end = text.IndexOf(End, StringComparison.Ordinal);
        text = start >= 0 && end > start
            ? text[..start] + section.TrimEnd('\n') + text[(end + End.Length)..]
            : text.TrimEnd('\n') + "\n\n" + section;
        await File.WriteAllTextAsync(path, text.TrimEnd('\n') + "\n", ct);
    }

    public static string Triple(Stats s) => $"{Ms(s.P50)} / {Ms(s.P95)} / {Ms(s.Max)}";

    public static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms.ToString(ms < 100 ? "F1" : "F0", CultureInfo.InvariantCulture);
}

using System.Diagnostics;
using Steward.Bench.Broker;
using Steward.Bench;
using Steward.Server.Tests.Infrastructure;

var options = Options.Parse(args);
PublishedBroker.Use();
using var cancel = CtrlC.Cancels();
var ct = cancel.Token;
var total = Stopwatch.StartNew();
var date = TimeProvider.System.GetUtcNow();
var machine = await MachineInfo.ReadAsync([$"{Baseline.PgBin}/postgres --version", $"{Baseline.RedisServer} --version"], ct);
Console.WriteLine($"steward-bench-broker: N = {options.Instances}, {machine.Cores} cores, load {machine.LoadAverage}");

ProvisionBench.Result pg, redis;
IReadOnlyList<StepBreakdown.Row> steps;
IReadOnlyList<PollingBench.Result> polling;
await using (var server = await StewardServer.StartAsync())
{
    try
    {
        (pg, redis, steps, polling) = await BrokerPhaseAsync(server);
    }
    finally
    {
        // The harness removes the broker's directory on dispose; keep its log for a look at what it did.
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "steward-bench-broker.log"), server.Log, CancellationToken.None);
    }
}

async Task<(ProvisionBench.Result, ProvisionBench.Result, IReadOnlyList<StepBreakdown.Row>, IReadOnlyList<PollingBench.Result>)> BrokerPhaseAsync(StewardServer server)
{
    var bench = new ProvisionBench(server.Client);
    Console.WriteLine("Steward, postgresql standalone:");
    var pg = await bench.RunAsync(Service.PostgreSql, options.Instances, ct);
    Console.WriteLine("Steward, redis standalone:");
    var redis = await bench.RunAsync(Service.Redis, options.Instances, ct);
    var steps = StepBreakdown.FromLog(server.Log, "bench-");
    var polling = new List<PollingBench.Result>();

    Console.WriteLine("last_operation polling:");
    const string id = "poll-target";
    var put = await server.Client.ProvisionAsync(id, Service.Redis.ServiceId, Service.Redis.PlanId);
    var operation = put.Str("operation");
    await server.Client.WaitAsync(id, operation);
    using var load = new PollingBench(server.Url, server.Username, server.Password);
    foreach (var pollers in new[] { 1, 8, 32 })
    {
        foreach (var path in new[] { "/v2/catalog", $"/v2/service_instances/{id}/last_operation?operation={operation}" })
        {
            var r = await load.RunAsync(path, pollers, TimeSpan.FromSeconds(options.PollSeconds), ct);
            polling.Add(r);
            Console.WriteLine($"  C={pollers,2} {(path.EndsWith("catalog", StringComparison.Ordinal) ? "catalog       " : "last_operation")}: {r.PerSecond,7:F0} req/s, p50 {r.Latency.P50:F2} ms, p95 {r.Latency.P95:F2} ms, non-2xx {r.Errors}");
        }
    }

    await server.Client.DeprovisionAsync(id, Service.Redis.ServiceId, Service.Redis.PlanId);
    await server.Client.WaitAsync(id);
    return (pg, redis, steps, polling);
}

// The same PostgreSQL series on a broker with a warm pool of 2, each provision made once the pool is full again (the
// pool's steady state when instances are not created faster than it refills); refill times come from the broker's log.
ProvisionBench.Result pgPool;
IReadOnlyList<StepBreakdown.Row> poolSteps;
IReadOnlyList<double> refills;
await using (var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_POOL_POSTGRESQL_SIZE"] = "2" }))
{
    Console.WriteLine("Steward, postgresql standalone, warm pool of 2:");
    pgPool = await new ProvisionBench(server.Client).RunAsync(Service.PostgreSql, options.Instances, ct, () => WarmPoolLog.WaitFullAsync(server, 2, ct));
    poolSteps = StepBreakdown.FromLog(server.Log, "bench-");
    refills = WarmPoolLog.RefillTimes(server.Log);
    await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "steward-bench-broker-pool.log"), server.Log, CancellationToken.None);
}

Baseline.Result pgBase, redisBase;
using (var baseline = new Baseline())
{
    await baseline.PrepareAsync(ct);
    Console.WriteLine("Baseline, postgresql by hand:");
    pgBase = await baseline.PostgreSqlAsync(options.Instances, ct);
    Console.WriteLine("Baseline, redis by hand:");
    redisBase = await baseline.RedisAsync(options.Instances, ct);
}

var figures = new Figures(options.Instances, options.PollSeconds, date, total.Elapsed, machine, await MachineInfo.LoadAsync(ct), pg, redis, pgBase, redisBase, steps, polling) { WarmPool = new WarmPoolFigures(pgPool, poolSteps, Stats.Of(refills)) };
var section = Report.Section(figures);
Console.WriteLine();
Console.WriteLine(section);
if (options.WritePath is not null)
{
    await Report.WriteAsync(options.WritePath, section, ct);
    Console.WriteLine($"wrote the broker section of {options.WritePath}");
}

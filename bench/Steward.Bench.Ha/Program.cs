using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Steward.Bench;
using Steward.Bench.Ha;
using Steward.Engines.Redis.Resp;
using Steward.Server.Tests.HighAvailability;
using Steward.Server.Tests.Infrastructure;

// steward-bench-ha [--trials N] [--redis-trials N] [--patroni-trials N] [--patroni-default-trials N] [--write docs/benchmarks.md]
// Failover time (fault → first acknowledged write sent after it) and acknowledged writes lost, under a continuous
// write load, for: Steward's PostgreSQL ha plan, Steward's Redis ha plan, and Patroni (Debian's, with etcd) with its
// default and with tuned timing — all on this machine in one run. Plus write throughput of ha vs standalone.
var failures = new List<string>();
var trials = Arg("--trials", 20);
var redisTrials = Arg("--redis-trials", 20);
var patroniTrials = Arg("--patroni-trials", 10);
var patroniDefaultTrials = Arg("--patroni-default-trials", 5);
var write = ArgValue("--write");
PublishedBroker.Use();
using var cancel = CtrlC.Cancels();
var ct = cancel.Token;
var total = Stopwatch.StartNew();
var machine = await MachineInfo.ReadAsync(["/usr/lib/postgresql/15/bin/postgres --version", "haproxy -v", "redis-server --version", "patroni --version", "etcd --version"], ct);
Console.WriteLine($"steward-bench-ha: {trials} PostgreSQL / {redisTrials} Redis / {patroniTrials}+{patroniDefaultTrials} Patroni trials per fault, {machine.Cores} cores, load {machine.LoadAverage}");

// The client: same for every system. Reconnects after any error, 3 s connect and command timeouts.
const int CommandTimeout = 3;
var results = new List<Trial>();
var replicatedLost = 0;
var replicatedTotal = 0;

// Production HA settings; only the failover budget is raised so 2 × N failovers of one instance are allowed.
await using var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_HA_FAILOVER_LIMIT"] = "1000" });

// ---- Steward, PostgreSQL ha -------------------------------------------------------------------------------------
var ha = await HaInstance.CreateAsync(server);
foreach (var fault in new[] { "kill -9", "SIGSTOP" })
{
    for (var i = 1; i <= trials && !ct.IsCancellationRequested; i++)
    {
        await RunTrialAsync("steward-pg", fault, i, async () =>
        {
            await ha.WaitAsync("full redundancy", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, seconds: 300);
            var primary = await ha.PrimaryAsync();
            var load = await WriteLoad.StartWithAsync(WriteLoad.ToConnectionString(ha.Uri), CommandTimeout);
            var (seconds, injected) = await FaultAsync(load, fault, () => Processes.Under(primary.Directory), restart: null);
            var stored = await RetryAsync(() => ha.StoredIdsAsync());
            await TruncateAsync(WriteLoad.ToConnectionString(ha.Uri));
            return new Trial("steward-pg", fault, seconds, load.Acknowledged.Count, load.Acknowledged.Count(id => !stored.Contains(id)), load.Errors);
        });
    }
}

// Throughput: one client, one connection, single-row INSERT commits for 10 s, through the ha endpoint and on standalone.
await ha.WaitAsync("full redundancy", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, seconds: 300);
var haRate = await RateAsync(WriteLoad.ToConnectionString(ha.Uri));
var standaloneId = "sa-" + Guid.NewGuid().ToString("N")[..8];
await server.Client.ProvisionReadyAsync(standaloneId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
var standaloneUri = (await server.Client.BindReadyAsync(standaloneId, "b-" + standaloneId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
var standaloneRate = await RateAsync(WriteLoad.ToConnectionString(standaloneUri));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput: ha {haRate:F0} commits/s, standalone {standaloneRate:F0} commits/s"));
await ha.DeleteAsync();
await WriteAsync();

// ---- Steward, Redis ha ------------------------------------------------------------------------------------------
var redis = await HaInstance.CreateAsync(server, Catalogs.Redis, HaInstance.RedisHaPlan);
var redisPort = redis.Credentials.GetProperty("port").GetInt32();
var redisUser = redis.Credentials.GetProperty("username").GetString()!;
var redisPassword = redis.Credentials.GetProperty("password").GetString()!;
for (var i = 1; i <= redisTrials && !ct.IsCancellationRequested; i++)
{
    await RunTrialAsync("steward-redis", "kill -9", i, async () =>
    {
        await redis.WaitAsync("full redundancy", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, seconds: 300);
        var primary = await redis.PrimaryAsync();
        var load = RedisWriteLoad.Start(redisPort, redisUser, redisPassword);
        TimeSpan injected;
        await using (load)
        {
            await load.WaitForMoreAsync(200, TimeSpan.FromSeconds(30));
            foreach (var pid in Processes.Under(primary.Directory))
            {
                Signals.Send(pid, 9);
            }

            injected = load.Clock.Elapsed;

            await load.WaitForMoreAsync(1, TimeSpan.FromSeconds(120));
            await load.WaitForMoreAsync(200, TimeSpan.FromSeconds(60));
        }

        var seconds = FirstAfter(load.Timeline, load.Sent, injected);
        var stored = await RetryAsync(async () =>
        {
            await using var conn = await RespConnection.ConnectAsync("127.0.0.1", redisPort, redisUser, redisPassword, ct);
            var set = (RespValue.Array)await conn.ExecuteAsync(["SMEMBERS", RedisWriteLoad.Key], ct);
            await conn.ExecuteAsync(["DEL", RedisWriteLoad.Key], ct);
            return set.Items!.Select(v => long.Parse(v.AsText()!, CultureInfo.InvariantCulture)).ToHashSet();
        });
        replicatedLost += load.Replicated.Count(id => !stored.Contains(id));
        replicatedTotal += load.Replicated.Count;
        return new Trial("steward-redis", "kill -9", seconds, load.Acknowledged.Count, load.Acknowledged.Count(id => !stored.Contains(id)), load.Errors);
    });
}

await redis.DeleteAsync();
await WriteAsync();

// ---- Patroni, tuned and default --------------------------------------------------------------------------------
foreach (var (label, ttl, loopWait, retryTimeout, n) in new[] { ("patroni-tuned", 8, 1, 3, patroniTrials), ("patroni-default", 30, 10, 10, patroniDefaultTrials) })
{
    if (n == 0 || ct.IsCancellationRequested)
    {
        continue;
    }

    PatroniCluster? cluster = null;
    try
    {
        cluster = await PatroniCluster.StartAsync(label, ttl, loopWait, retryTimeout, ct);
        var cs = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { HostRecheckSeconds = 0 }.ConnectionString;
        foreach (var fault in new[] { "kill -9", "SIGSTOP" })
        {
            for (var i = 1; i <= n && !ct.IsCancellationRequested; i++)
            {
                await RunTrialAsync(label, fault, i, async () =>
                {
                    await cluster.WaitHealthyAsync(TimeSpan.FromSeconds(300), ct);
                    var leader = await cluster.LeaderAsync(ct);
                    var load = await WriteLoad.StartWithAsync(cs, CommandTimeout);

                    // The node fails: the patroni daemon and its PostgreSQL together (a crash or a freeze of the machine).
                    var (seconds, _) = await FaultAsync(load, fault, () => Processes.Under(leader.Directory), restart: fault == "kill -9" ? () => cluster.StartNode(leader) : null);
                    var stored = await RetryAsync(() => StoredIdsAsync(cs));
                    await TruncateAsync(cs);
                    return new Trial(label, fault, seconds, load.Acknowledged.Count, load.Acknowledged.Count(id => !stored.Contains(id)), load.Errors);
                });
            }
        }
    }
    catch (Exception ex) when (!ct.IsCancellationRequested)
    {
        failures.Add($"{label}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        Console.WriteLine("cluster failed: " + failures[^1]);
    }
    finally
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }

        await WriteAsync();
    }
}

Console.WriteLine(await WriteAsync());
return failures.Count == 0 ? 0 : 1;

// The section so far, written after every system (a run cut short keeps what it measured).
async Task<string> WriteAsync()
{
    var section = Section();
    if (write is not null)
    {
        var text = File.Exists(write) ? await File.ReadAllTextAsync(write, CancellationToken.None) : string.Empty;
        var start = text.IndexOf("<!-- ha:start -->", StringComparison.Ordinal);
        var end = text.IndexOf("<!-- ha:end -->", StringComparison.Ordinal);
        text = start >= 0 && end > start ? text[..start] + section.TrimEnd('\n') + text[(end + "<!-- ha:end -->".Length)..] : text.TrimEnd('\n') + "\n\n" + section;
        await File.WriteAllTextAsync(write, text.TrimEnd('\n') + "\n", CancellationToken.None);
    }

    return section;
}

async Task RunTrialAsync(string system, string fault, int i, Func<Task<Trial>> trial)
{
    try
    {
        var r = await trial();
        results.Add(r);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{system} {fault} #{i}: first write after {r.Seconds:F2} s; {r.Acked} acknowledged, {r.Lost} lost, {r.Errors} client errors"));
    }
    catch (Exception ex) when (!ct.IsCancellationRequested)
    {
        failures.Add($"{system} {fault} #{i}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        Console.WriteLine("trial failed: " + failures[^1]);
    }
}

// Injects the fault into every process of the failing node once 20 writes were acknowledged, waits for writes to
// resume, then for 20 more; returns the failover time. SIGSTOP is undone (SIGCONT) once writes resumed elsewhere.
async Task<(double Seconds, TimeSpan Injected)> FaultAsync(WriteLoad load, string fault, Func<IReadOnlyList<int>> processes, Action? restart)
{
    TimeSpan injected;
    await using (load)
    {
        await load.WaitForMoreAsync(20, TimeSpan.FromSeconds(30));
        var node = processes(); // now, with the client's own backend among them
        // kill(2) directly, every process of the node within microseconds (spawning kill(1) per process takes
        // seconds on a loaded machine, and writes acknowledged meanwhile would count as after the fault).
        foreach (var pid in node)
        {
            Signals.Send(pid, fault == "kill -9" ? 9 : 19);
        }

        injected = load.Clock.Elapsed;

        // Writes resumed: a write *sent* after the fault was acknowledged (one in flight may be acknowledged at once,
        // and continuing a frozen node then would end the freeze after milliseconds).
        var waited = Stopwatch.StartNew();
        while (!(load.Sent.Where(x => x.At > injected).Select(x => x.Id).DefaultIfEmpty(long.MaxValue).Min() is var first && load.Acknowledged.Any(id => id >= first)))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(180))
            {
                throw new TimeoutException($"no write sent after the {fault} was acknowledged within 180 s ({load.Errors} client errors)");
            }

            await Task.Delay(20, ct);
        }

        if (fault == "SIGSTOP")
        {
            foreach (var pid in node)
            {
                Signals.Send(pid, 18);
            }
        }

        restart?.Invoke();
        await load.WaitForMoreAsync(20, TimeSpan.FromSeconds(60));
    }

    return (FirstAfter(load.Timeline, load.Sent, injected), injected);
}

// The first write acknowledged that was *sent* after the injection (ids are sent in order by one client): a write
// in flight at the fault and acknowledged just after it says nothing about the failover.
static double FirstAfter(IEnumerable<(TimeSpan At, long Id)> timeline, IEnumerable<(TimeSpan At, long Id)> sent, TimeSpan injected)
{
    var firstSent = sent.Where(x => x.At > injected).Min(x => x.Id);
    return (timeline.Where(x => x.Id >= firstSent).Min(x => x.At) - injected).TotalSeconds;
}

async Task<T> RetryAsync<T>(Func<Task<T>> read)
{
    for (var attempt = 0; ; attempt++)
    {
        try
        {
            return await read();
        }
        catch (Exception) when (attempt < 50 && !ct.IsCancellationRequested)
        {
            await Task.Delay(200, ct);
        }
    }
}

async Task<HashSet<long>> StoredIdsAsync(string cs)
{
    await using var conn = new NpgsqlConnection(cs);
    await conn.OpenAsync(ct);
    await using var cmd = new NpgsqlCommand("SELECT id FROM writes", conn);
    await using var reader = await cmd.ExecuteReaderAsync(ct);
    var ids = new HashSet<long>();
    while (await reader.ReadAsync(ct))
    {
        ids.Add(reader.GetInt64(0));
    }

    return ids;
}

async Task TruncateAsync(string cs)
{
    await RetryAsync(async () =>
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync(ct);
        await using var truncate = new NpgsqlCommand("TRUNCATE writes", conn);
        return await truncate.ExecuteNonQueryAsync(ct);
    });
}

string Section()
{
    static double Pct(IReadOnlyList<double> sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
    var s = new StringBuilder();
    s.AppendLine("<!-- ha:start -->");
    s.AppendLine("## High availability: failover time and acknowledged writes lost, Steward vs Patroni");
    s.AppendLine();
    s.AppendLine(CultureInfo.InvariantCulture, $"Measured by `bench/Steward.Bench.Ha` (`sh scripts/install-deps.sh --bench; dotnet run -c Release --project bench/Steward.Bench.Ha -- --trials {trials} --redis-trials {redisTrials} --patroni-trials {patroniTrials} --patroni-default-trials {patroniDefaultTrials} --write docs/benchmarks.md`) on {TimeProvider.System.GetUtcNow():yyyy-MM-dd} (UTC) in {total.Elapsed.TotalMinutes:F1} min, all systems in the same run on the same machine.");
    s.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine.Cores} cores ({machine.Cpu}), {machine.Memory}, load average at start {machine.LoadAverage} (shared with other builds and tests); {machine.Tools}.");
    s.AppendLine();
    s.AppendLine("- **steward-pg**: one PostgreSQL `ha` instance (primary + 2 synchronous standbys, `ANY 1`, HAProxy endpoint), production HA settings (tick 250 ms, check timeout 2 s, 2 failed checks for a hang). The client uses the binding's `uri` (the stable endpoint).");
    s.AppendLine("- **steward-redis**: one Redis `ha` instance (master + 2 replicas, asynchronous, `min-replicas-to-write 1`), same settings; the client `SADD`s numbered members through the endpoint, every tenth followed by `WAIT 1 2000`.");
    s.AppendLine("- **patroni-tuned / patroni-default**: Debian's Patroni, 3 nodes (each a `patroni` daemon and its PostgreSQL 15, as the service user) on one etcd (Debian's `etcd-server`, v3 API), `synchronous_mode: true` (one synchronous standby; Patroni fails over only to it), `use_pg_rewind`. Default timing `ttl 30, loop_wait 10, retry_timeout 10`; tuned `ttl 8, loop_wait 1, retry_timeout 3`. The client uses the multi-host connection string with `target_session_attrs=read-write` (Npgsql, host state recheck 0 s), Patroni's proxy-less way.");
    s.AppendLine("- Per trial: the client writes single-row `INSERT` commits (Redis: `SADD`) as fast as it can over one connection, 3 s connect/command timeouts, reconnecting after any error, logging each id once acknowledged. After 20 acknowledged writes (Redis 200) every process of the primary's node gets `kill -9` (a node crash — for Patroni the daemon and PostgreSQL together; a PostgreSQL killed alone is restarted in place by Patroni, which is not a failover), or `SIGSTOP` (a node freeze), then `SIGCONT` once writes resumed elsewhere. A killed Patroni node is started again after the failover (it rejoins with pg_rewind); Steward builds a new standby itself. **Failover time** = injection → the first acknowledged write sent after it. **Lost** = acknowledged ids missing on the new primary. Each trial starts at full redundancy. Percentiles nearest-rank.");
    s.AppendLine();
    s.AppendLine("| system | fault | trials | failover p50 (s) | p95 (s) | max (s) | acknowledged writes | lost | client errors |");
    s.AppendLine("|---|---|---|---|---|---|---|---|---|");
    foreach (var g in results.GroupBy(r => (r.System, r.Fault)))
    {
        var sorted = g.Select(r => r.Seconds).Order().ToList();
        s.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key.System} | {g.Key.Fault} | {sorted.Count} | {Pct(sorted, 0.5):F2} | {Pct(sorted, 0.95):F2} | {sorted[^1]:F2} | {g.Sum(r => r.Acked)} | **{g.Sum(r => r.Lost)}** | {g.Sum(r => r.Errors)} |");
    }

    s.AppendLine();
    s.AppendLine(CultureInfo.InvariantCulture, $"Redis writes confirmed by `WAIT 1` (a replica had them): {replicatedTotal}, of which lost: **{replicatedLost}**.");
    s.AppendLine();
    s.AppendLine(CultureInfo.InvariantCulture, $"Write throughput, one client, one connection, 10 s of single-row commits: `ha` {haRate:F0} commits/s, `standalone` {standaloneRate:F0} commits/s (ratio **{haRate / standaloneRate:F2}×**: each `ha` commit waits for one standby's flush and crosses HAProxy).");
    s.AppendLine();
    s.AppendLine(CultureInfo.InvariantCulture, $"Trials that failed to complete: {failures.Count}{(failures.Count == 0 ? string.Empty : " — " + string.Join("; ", failures))}.");
    s.AppendLine("<!-- ha:end -->");
    return s.ToString();
}

async Task<double> RateAsync(string connectionString)
{
    await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
    await conn.OpenAsync(ct);
    await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS rate (id bigserial PRIMARY KEY, v int)", conn))
    {
        await create.ExecuteNonQueryAsync(ct);
    }

    var n = 0;
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromSeconds(10))
    {
        await using var insert = new NpgsqlCommand("INSERT INTO rate (v) VALUES (1)", conn);
        await insert.ExecuteNonQueryAsync(ct);
        n++;
    }

    return n / clock.Elapsed.TotalSeconds;
}

int Arg(string name, int fallback) => ArgValue(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

string? ArgValue(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

internal static class Signals
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Send(int pid, int signal);
}

internal sealed record Trial(string System, string Fault, double Seconds, int Acked, int Lost, int Errors);

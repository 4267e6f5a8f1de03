using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Steward.Bench;
using Steward.Server.Tests.HighAvailability;
using Steward.Server.Tests.Infrastructure;

// steward-bench-ha [--trials N] [--write docs/benchmarks.md]
// Failover time of the PostgreSQL ha plan: primary killed (kill -9) or hung (SIGSTOP) under a continuous write load
// → first acknowledged write through the stable endpoint; acknowledged writes lost; write throughput ha vs standalone.
var failures = new List<string>();
var trials = ArgValue("--trials") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : 20;
var write = ArgValue("--write");
using var cancel = CtrlC.Cancels();
var ct = cancel.Token;
var total = Stopwatch.StartNew();
var machine = await MachineInfo.ReadAsync(["/usr/lib/postgresql/15/bin/postgres --version", "haproxy -v"], ct);
Console.WriteLine($"steward-bench-ha: {trials} trials per fault, {machine.Cores} cores, load {machine.LoadAverage}");

// Production HA settings; only the failover budget is raised so 2 × N failovers of one instance are allowed.
await using var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_HA_FAILOVER_LIMIT"] = "1000" });
var results = new List<(string Fault, double Seconds, int Acked, int Lost, int Errors)>();
var ha = await HaInstance.CreateAsync(server);
foreach (var fault in new[] { "kill -9", "SIGSTOP" })
{
    for (var i = 1; i <= trials && !ct.IsCancellationRequested; i++)
    {
      try
      {
        await ha.WaitAsync("full redundancy", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, seconds: 300);
        var primary = await ha.PrimaryAsync();
        var load = await WriteLoad.StartAsync(ha.Uri);
        TimeSpan injected;
        await using (load)
        {
            await load.WaitForMoreAsync(20, TimeSpan.FromSeconds(30));
            injected = load.Clock.Elapsed;
            if (fault == "kill -9")
            {
                // A node crash: the postmaster and every backend at once (a postmaster killed alone leaves its
                // backends finishing the statement in flight, which would flatter the figure).
                foreach (var pid in Processes.Under(primary.Directory))
                {
                    Processes.Kill(pid, 9);
                }
            }
            else
            {
                Processes.Kill(primary.Pid!.Value, 19);
            }
            await load.WaitForMoreAsync(1, TimeSpan.FromSeconds(120));
            if (fault == "SIGSTOP")
            {
                Processes.Kill(primary.Pid!.Value, 18);
            }

            await load.WaitForMoreAsync(20, TimeSpan.FromSeconds(60));
        }

        // The first write acknowledged after the injection that was *sent* after it: the first ack whose id is above
        // every id acknowledged before the injection.
        var before = load.Timeline.Where(x => x.At <= injected).Select(x => x.Id).DefaultIfEmpty(0).Max();
        var firstAfter = load.Timeline.Where(x => x.At > injected && x.Id > before).Min(x => x.At);
        HashSet<long>? stored = null;
        for (var attempt = 0; stored is null; attempt++)
        {
            try
            {
                stored = await ha.StoredIdsAsync();
            }
            catch (NpgsqlException) when (attempt < 50)
            {
                await Task.Delay(200, ct);
            }
        }

        var lost = load.Acknowledged.Count(id => !stored.Contains(id));
        var seconds = (firstAfter - injected).TotalSeconds;
        results.Add((fault, seconds, load.Acknowledged.Count, lost, load.Errors));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{fault} #{i}: first write after {seconds:F2} s; {load.Acknowledged.Count} acknowledged, {lost} lost, {load.Errors} client errors"));
        await using var conn = new NpgsqlConnection(WriteLoad.ToConnectionString(ha.Uri));
        await conn.OpenAsync(ct);
        await using var truncate = new NpgsqlCommand("TRUNCATE writes", conn);
        await truncate.ExecuteNonQueryAsync(ct);
      }
      catch (Exception ex) when (!ct.IsCancellationRequested)
      {
        failures.Add($"{fault} #{i}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        Console.WriteLine("trial failed: " + failures[^1]);
      }
    }
}

// Throughput: one client, one connection, single-row INSERT commits for 10 s, through the ha endpoint and on standalone.
await ha.WaitAsync("full redundancy", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, seconds: 300);
var haRate = await RateAsync(ha.Uri);
var standaloneId = "sa-" + Guid.NewGuid().ToString("N")[..8];
await server.Client.ProvisionReadyAsync(standaloneId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
var standaloneUri = (await server.Client.BindReadyAsync(standaloneId, "b-" + standaloneId, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
var standaloneRate = await RateAsync(standaloneUri);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput: ha {haRate:F0} commits/s, standalone {standaloneRate:F0} commits/s"));

var section = Section();
Console.WriteLine(section);
if (write is not null)
{
    var text = File.Exists(write) ? await File.ReadAllTextAsync(write, ct) : string.Empty;
    var start = text.IndexOf("<!-- ha:start -->", StringComparison.Ordinal);
    var end = text.IndexOf("<!-- ha:end -->", StringComparison.Ordinal);
    text = start >= 0 && end > start ? text[..start] + section.TrimEnd('\n') + text[(end + "<!-- ha:end -->".Length)..] : text.TrimEnd('\n') + "\n\n" + section;
    await File.WriteAllTextAsync(write, text.TrimEnd('\n') + "\n", ct);
}

string Section()
{
    static double Pct(IReadOnlyList<double> sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
    var s = new StringBuilder();
    s.AppendLine("<!-- ha:start -->");
    s.AppendLine("## High availability: failover time and acknowledged writes lost (PostgreSQL `ha`)");
    s.AppendLine();
    s.AppendLine(CultureInfo.InvariantCulture, $"Measured by `bench/Steward.Bench.Ha` (`dotnet run -c Release --project bench/Steward.Bench.Ha -- --trials {trials} --write docs/benchmarks.md`) on {TimeProvider.System.GetUtcNow():yyyy-MM-dd} (UTC) in {total.Elapsed.TotalMinutes:F1} min.");
    s.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine.Cores} cores ({machine.Cpu}), {machine.Memory}, load average at start {machine.LoadAverage} (the machine is shared with other builds and tests); {machine.Tools}.");
    s.AppendLine("One `ha` instance (primary + 2 synchronous standbys, HAProxy endpoint), production HA settings (tick 250 ms, check timeout 1 s, 2 failed checks for a hang).");
    s.AppendLine("Per trial: a client writes single-row `INSERT` commits through the binding's `uri` (the stable endpoint), reconnecting after any error, logging each id whose COMMIT returned; after 20 acknowledged writes the primary's postmaster gets `kill -9` (or `SIGSTOP`, then `SIGCONT` once writes resumed). **Failover time** = injection → the first acknowledged write sent after it. **Lost** = acknowledged ids missing on the new primary. Each trial starts once the replacement standby streams again. Percentiles nearest-rank.");
    s.AppendLine();
    s.AppendLine("| fault | trials | failover p50 (s) | p95 (s) | max (s) | acknowledged writes | lost | client errors (during the switch) |");
    s.AppendLine("|---|---|---|---|---|---|---|---|");
    foreach (var g in results.GroupBy(r => r.Fault))
    {
        var sorted = g.Select(r => r.Seconds).Order().ToList();
        s.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key} | {sorted.Count} | {Pct(sorted, 0.5):F2} | {Pct(sorted, 0.95):F2} | {sorted[^1]:F2} | {g.Sum(r => r.Acked)} | **{g.Sum(r => r.Lost)}** | {g.Sum(r => r.Errors)} |");
    }

    s.AppendLine();
    s.AppendLine(CultureInfo.InvariantCulture, $"Write throughput, one client, one connection, 10 s of single-row commits: `ha` {haRate:F0} commits/s, `standalone` {standaloneRate:F0} commits/s (ratio **{haRate / standaloneRate:F2}×**: each `ha` commit waits for one standby's flush and crosses HAProxy).");
    s.AppendLine();
    s.AppendLine(CultureInfo.InvariantCulture, $"Trials that failed to complete: {failures.Count}{(failures.Count == 0 ? string.Empty : " — " + string.Join("; ", failures))}.");
    s.AppendLine();
    s.AppendLine("Patroni (Debian `patroni` + `etcd-server`, default and tuned) was not run side by side yet: see the report of issue 10.");
    s.AppendLine("<!-- ha:end -->");
    return s.ToString();
}

async Task<double> RateAsync(string uri)
{
    await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(WriteLoad.ToConnectionString(uri)) { Pooling = false }.ConnectionString);
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

string? ArgValue(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

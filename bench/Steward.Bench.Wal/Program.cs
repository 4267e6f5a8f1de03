using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Steward.Bench;
using Steward.Bench.Wal;
using Steward.Server.Tests.Infrastructure;

var options = Options.Parse(args);
PublishedBroker.Use();
using var cancel = CtrlC.Cancels();
var ct = cancel.Token;
var total = Stopwatch.StartNew();
var machine = await MachineInfo.ReadAsync([$"{Instance.PgBin}/postgres --version", "pgbackrest version"], ct);
Console.WriteLine($"steward-bench-wal: scale {options.Scale}, {options.Seconds} s per pgbench series, {options.Clients} clients, PITR over {options.WalGigabytes} GB of WAL; {machine.Cores} cores, load {machine.LoadAverage}");
try
{
    await PgBackRestArchive.VersionAsync(ct);
}
catch (InvalidOperationException)
{
    Console.Error.WriteLine("pgbackrest is not installed: apt-get install pgbackrest");
    return 2;
}

var work = Path.Combine(Path.GetTempPath(), "steward-bench-wal-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
Figures figures;
await using (var server = await StewardServer.StartAsync())
{
    try
    {
        figures = await MeasureAsync(server);
    }
    finally
    {
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "steward-bench-wal.log"), server.Log, CancellationToken.None);
        Directory.Delete(work, recursive: true);
    }
}

var section = Report.Section(figures with { Minutes = total.Elapsed.TotalMinutes, LoadAfter = await MachineInfo.LoadAsync(ct) });
Console.WriteLine();
Console.WriteLine(section);
if (options.WritePath is { } path)
{
    await Report.WriteAsync(path, section, ct);
    Console.WriteLine($"wrote the WAL section of {path}");
}

return 0;

async Task<Figures> MeasureAsync(StewardServer server)
{
    const string id = "bench-wal";
    var instance = await Instance.CreateAsync(server, id, options.Scale, ct);
    var pgbackrest = new PgBackRestArchive(instance, work);
    await pgbackrest.SetUpAsync(ct);
    var dbBytes = long.Parse(await instance.SqlAsync("SELECT pg_database_size('app')", ct), CultureInfo.InvariantCulture);

    // The same instance and data under three archive_commands, one pgbench series each.
    var series = new List<Series>();
    foreach (var (name, command) in new (string, string?)[] { ("no archiving (/bin/true)", "/bin/true"), ("Steward", null), ("pgBackRest archive-push (async)", pgbackrest.ArchivePushCommand) })
    {
        await instance.SetArchiveCommandAsync(command, ct);
        await instance.SqlAsync("SELECT pg_switch_wal()", ct);
        await instance.WaitArchivedAsync(TimeSpan.FromMinutes(5), ct);
        await instance.SqlAsync("CHECKPOINT", ct);
        var sampler = new LagSampler(instance.DataDir);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sampling = sampler.RunAsync(stop.Token);
        var walBefore = await instance.WalBytesAsync(ct);
        var output = await Steward.Bench.Backup.Shell.RunAsync($"{Instance.PgBin}/pgbench -M prepared -c {options.Clients} -j 2 -T {options.Seconds} {Steward.Bench.Backup.Shell.Quote(instance.Uri)}", null, ct);
        var walBytes = await instance.WalBytesAsync(ct) - walBefore;
        var drained = Stopwatch.StartNew();
        await instance.SqlAsync("SELECT pg_switch_wal()", ct);
        await instance.WaitArchivedAsync(TimeSpan.FromMinutes(10), ct);
        var drain = drained.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await sampling;
        var tps = double.Parse(Regex.Match(output, @"tps = ([0-9.]+) \(without initial connection time\)").Groups[1].Value, CultureInfo.InvariantCulture);
        var s = new Series(name, tps, walBytes, sampler.Lags.Order().ToList(), drain);
        series.Add(s);
        Console.WriteLine($"  {name,-34} {tps,9:F1} tps, {walBytes / 1e6,7:F0} MB WAL, {s.Lags.Count} segments, lag p50 {Stats.Percentile(s.Lags, 50):F2} s p99 {Stats.Percentile(s.Lags, 99):F2} s, drained {drain:F1} s after the run");
    }

    // Point-in-time restore: both tools archive the same WAL from their own base backup of the same moment.
    Console.WriteLine("point-in-time restore: base backups, then WAL archived by both tools");
    await instance.SetArchiveCommandAsync($"{instance.StewardArchiveCommand} && {pgbackrest.ArchivePushCommand}", ct);
    var osb = server.Client;
    var backup = await osb.SendAsync(HttpMethod.Post, $"/api/v1/instances/{id}/backups", new { kind = "physical" }, version: null);
    for (var state = "in progress"; state == "in progress"; await Task.Delay(200, ct))
    {
        state = (await osb.ApiAsync($"/backups/{backup.Str("id")}")).Str("state")!;
        if (state is "failed")
        {
            throw new InvalidOperationException($"Steward's base backup failed: {await osb.ApiAsync($"/backups/{backup.Str("id")}")}");
        }
    }

    await pgbackrest.BackupAsync(ct);
    await instance.SqlAsync("CREATE TABLE IF NOT EXISTS bench_marker (at timestamptz)", ct);
    var start = await instance.WalBytesAsync(ct);
    var generated = Stopwatch.StartNew();
    while (await instance.WalBytesAsync(ct) - start < options.WalGigabytes * 1e9)
    {
        await Steward.Bench.Backup.Shell.RunAsync($"{Instance.PgBin}/pgbench -M prepared -N -c {options.Clients} -j 2 -T 10 {Steward.Bench.Backup.Shell.Quote(instance.Uri)}", null, ct);
    }

    // The target is a moment just after the marker's commit: a restore to it has the marker, and nothing later.
    await instance.SqlAsync("INSERT INTO bench_marker VALUES (clock_timestamp())", ct);
    var target = await instance.SqlAsync("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", ct);
    var walGenerated = await instance.WalBytesAsync(ct) - start;
    await Task.Delay(1100, ct);
    await instance.SqlAsync("INSERT INTO bench_marker VALUES (clock_timestamp())", ct);
    await instance.SqlAsync("SELECT pg_switch_wal()", ct);
    await instance.WaitArchivedAsync(TimeSpan.FromMinutes(20), ct);
    Console.WriteLine($"  {walGenerated / 1e9:F2} GB of WAL in {generated.Elapsed.TotalSeconds:F0} s; target {target}");
    for (var clock = Stopwatch.StartNew(); ; await Task.Delay(500, ct))
    {
        var window = await osb.ApiAsync($"/instances/{id}/recovery-window");
        if (window.Body.TryGetProperty("latest_recoverable_time", out var latest) && latest.ValueKind == System.Text.Json.JsonValueKind.String
            && latest.GetDateTimeOffset() >= DateTimeOffset.Parse(target, CultureInfo.InvariantCulture))
        {
            break;
        }

        if (clock.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException($"{target} not recoverable: {window}");
        }
    }

    var pitr = Stopwatch.StartNew();
    var started = await osb.SendAsync(HttpMethod.Post, $"/api/v1/instances/{id}/point-in-time-restore", new { to_time = target }, version: null);
    var done = await osb.WaitAsync(id, started.Str("operation") ?? throw new InvalidOperationException(started.ToString()), 7200);
    var stewardSeconds = pitr.Elapsed.TotalSeconds;
    if (done.Str("state") != "succeeded")
    {
        throw new InvalidOperationException($"Steward's point-in-time restore: {done}");
    }

    var check = "SELECT count(*) FROM bench_marker";
    var stewardRows = await instance.SqlAsync(check, ct);
    var steps = Step.FromLog(server.Log, started.Str("operation")!);
    var served = await ServedAsync(server, id);
    Console.WriteLine($"  Steward PITR {stewardSeconds:F1} s (marker rows {stewardRows}): {string.Join(", ", steps.Select(s => $"{s.Name} {s.Seconds:F1} s"))}; WAL files renamed from the instance's spool {served.Renamed}, served over HTTP from the broker's spool {served.Spool}, from storage {served.Storage}");
    var (restoreSeconds, recoverySeconds, pgbrRows) = await pgbackrest.PointInTimeAsync(target, check, ct);
    Console.WriteLine($"  pgBackRest restore {restoreSeconds:F1} s + recovery to promotion {recoverySeconds:F1} s (marker rows {pgbrRows})");

    return new Figures(options, TimeProvider.System.GetUtcNow(), 0, machine, null, dbBytes, series,
        new Pitr(walGenerated, target, stewardSeconds, stewardRows, steps, restoreSeconds, recoverySeconds, pgbrRows) { Served = served });
}

// steward_wal_restore_files_total of the instance, by source.
static async Task<(double Renamed, double Spool, double Storage)> ServedAsync(StewardServer server, string id)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
    request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")));
    using var response = await server.Http.SendAsync(request);
    var text = await response.Content.ReadAsStringAsync();
    double Count(string source) => text.Split('\n')
        .Where(l => l.StartsWith("steward_wal_restore_files_total{", StringComparison.Ordinal) && l.Contains($"instance_id=\"{id}\"", StringComparison.Ordinal) && l.Contains($"source=\"{source}\"", StringComparison.Ordinal))
        .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).Sum();
    return (Count("rename"), Count("spool"), Count("storage"));
}

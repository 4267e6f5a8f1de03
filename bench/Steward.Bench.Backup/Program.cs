using System.Diagnostics;
using System.Text.Json;
using Steward.Bench.Backup;
using Steward.Bench;
using Steward.Server.Tests.Infrastructure;

var options = Options.Parse(args);
PublishedBroker.Use();
using var cancel = CtrlC.Cancels();
var ct = cancel.Token;
var saved = Path.Combine(Path.GetTempPath(), "steward-bench-backup.json");

if (options.Incremental)
{
    // Its own figures and section (also for --render): an incremental chain against pgBackRest full + incr.
    await IncrementalBench.RunAsync(options, ct);
    return;
}

if (options.RenderPath is { } render)
{
    // Re-render from saved figures: the report's wording can change without measuring again.
    var figures = JsonSerializer.Deserialize<Figures>(await File.ReadAllTextAsync(render, ct), Figures.JsonOptions)!;
    await EmitAsync(figures);
    return;
}

if (options.Sizes is not null)
{
    await SizeSeries.RunAsync(options, ct);
    return;
}

if (options.Repair)
{
    await RepairBench.RunAsync(options, ct);
    return;
}

if (options.Rebuild)
{
    await RebuildBench.RunAsync(options, ct);
    return;
}

var total = Stopwatch.StartNew();
var date = TimeProvider.System.GetUtcNow();
var machine = await MachineInfo.ReadAsync([$"{Target.PgBin}/postgres --version", "zstd --version", "echo age $(age --version)", "pgbackrest version"], ct);
Console.WriteLine($"steward-bench-backup: scale {options.Scale}, {options.Repeat} runs, {machine.Cores} cores, load {machine.LoadAverage}");
var work = Path.Combine(Path.GetTempPath(), "steward-bench-backup-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
Figures result;
try
{
    await using var server = await StewardServer.StartAsync();
    try
    {
        result = await MeasureAsync(server, work);
        result = result with { RestorePipelineSeconds = BrokerLog.RestorePipelineSeconds(server.Log) };
    }
    finally
    {
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "steward-bench-backup.log"), server.Log, CancellationToken.None);
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

await File.WriteAllTextAsync(saved, JsonSerializer.Serialize(result, Figures.JsonOptions), ct);
Console.WriteLine($"figures saved to {saved} (re-render with --render {saved})");
await EmitAsync(result);

async Task EmitAsync(Figures figures)
{
    var section = Report.Section(figures);
    Console.WriteLine();
    Console.WriteLine(section);
    if (options.WritePath is not null)
    {
        await Report.WriteAsync(options.WritePath, section, ct);
        Console.WriteLine($"wrote the backup section of {options.WritePath}");
    }
}

async Task<Figures> MeasureAsync(StewardServer server, string work)
{
    const string id = "bench-backup";
    var osb = server.Client;
    var load = Stopwatch.StartNew();
    var target = await Target.CreateAsync(server, id, options.Scale, ct);
    var loadSeconds = load.Elapsed.TotalSeconds;
    await target.CheckpointAsync(ct);
    Console.WriteLine($"database app: {target.DatabaseBytes / 1e6:F0} MB, cluster {target.ClusterBytes / 1e6:F0} MB");

    var steward = new StewardRuns(server, target);
    var shell = new ShellRuns(target, work);
    var pgbackrest = new PgBackRest(target, work);
    string? pgbackrestError = null;
    try
    {
        await pgbackrest.SetUpAsync(ct);
    }
    catch (InvalidOperationException ex)
    {
        pgbackrestError = ex.Message;
        Console.WriteLine($"pgBackRest: {ex.Message}");
    }

    var backups = new List<StewardRuns.BackupResult>();
    var restores = new List<StewardRuns.RestoreResult>();
    var pipelines = new List<ShellRuns.PipelineResult>();
    var stages = new List<List<ShellRuns.StageResult>>();
    var pgbr = new List<PgBackRest.Result>();
    for (var run = 1; run <= options.Repeat; run++)
    {
        Console.WriteLine($"run {run}/{options.Repeat}");
        var s = (await shell.StagesAsync(ct)).ToList();
        stages.Add(s);
        foreach (var stage in s)
        {
            Console.WriteLine($"  stage {stage.Name,-32} {stage.Time.WallSeconds,6:F2} s wall, {stage.Time.CpuSeconds,6:F2} s CPU");
        }

        var b = await steward.BackupAsync(ct);
        backups.Add(b);
        Console.WriteLine($"  steward backup   {b.WallSeconds,6:F2} s (API {b.ApiSeconds:F2} s), {b.PlaintextBytes / 1e6:F0} MB -> {b.StoredBytes / 1e6:F1} MB, CPU broker {b.BrokerCpu:F2} s + children {b.ChildrenCpu:F2} s (pg_basebackup sampled {b.SampledBaseBackupCpu:F2} s), RSS {b.IdleRss / 1e6:F0} -> peak {b.PeakRss / 1e6:F0} MB");
        var r = await steward.RestoreAsync(b.Id, ct);
        restores.Add(r);
        Console.WriteLine($"  steward restore  {r.WallSeconds,6:F2} s (API {r.ApiSeconds:F2} s), CPU broker {r.BrokerCpu:F2} s + tar {r.TarCpu:F2} s, RSS {r.IdleRss / 1e6:F0} -> peak {r.PeakRss / 1e6:F0} MB");
        Console.WriteLine($"    broker threads: {r.BrokerThreads}");
        await steward.DeleteAsync(b.Id);

        var p = await shell.PipelineAsync(run, ct);
        pipelines.Add(p);
        Console.WriteLine($"  shell backup     {p.Backup.WallSeconds,6:F2} s, CPU {p.Backup.CpuSeconds:F2} s, {p.OutputBytes / 1e6:F1} MB; restore {p.Restore.WallSeconds:F2} s, CPU {p.Restore.CpuSeconds:F2} s");

        if (pgbackrestError is null)
        {
            try
            {
                var g = await pgbackrest.RunAsync(run, ct);
                pgbr.Add(g);
                Console.WriteLine($"  pgBackRest       {g.Backup.WallSeconds,6:F2} s, CPU {g.Backup.CpuSeconds:F2} s, {g.OutputBytes / 1e6:F1} MB; restore {g.Restore.WallSeconds:F2} s, CPU {g.Restore.CpuSeconds:F2} s");
            }
            catch (InvalidOperationException ex)
            {
                pgbackrestError = ex.Message;
                Console.WriteLine($"pgBackRest: {ex.Message}");
            }
        }
    }

    var deprovision = await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
    if (deprovision.Status == System.Net.HttpStatusCode.Accepted)
    {
        await osb.WaitAsync(id, deprovision.Str("operation"), timeoutSeconds: 600);
    }

    return new Figures(options.Scale, options.Repeat, date, total.Elapsed.TotalMinutes, machine, await MachineInfo.LoadAsync(ct),
        target.DatabaseBytes, target.ClusterBytes, loadSeconds, shell.PipelineCommand, backups, restores, pipelines, stages, pgbr, pgbackrestError);
}

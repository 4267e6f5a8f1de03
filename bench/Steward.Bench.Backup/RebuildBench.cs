using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Backup;

/// <summary>
/// <c>--rebuild</c>: the recovery time of a rebuild (request → server healthy with the same credentials) against the
/// raw restore of the same data by the shell pipeline and by pgBackRest, with the rebuild's time per step.
/// </summary>
internal static class RebuildBench
{
    public const string Start = "<!-- rebuild:start -->";
    public const string End = "<!-- rebuild:end -->";

    public static async Task RunAsync(Options options, CancellationToken ct)
    {
        var date = TimeProvider.System.GetUtcNow();
        var machine = await MachineInfo.ReadAsync([$"{Target.PgBin}/postgres --version", "pgbackrest version"], ct);
        Console.WriteLine($"steward-bench-backup --rebuild: scale {options.Scale}, {machine.Cores} cores, load {machine.LoadAverage}");
        var work = Path.Combine(Path.GetTempPath(), "steward-bench-rebuild-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
        try
        {
            await using var server = await StewardServer.StartAsync();
            const string id = "bench-rebuild";
            var target = await Target.CreateAsync(server, id, options.Scale, ct);
            await target.CheckpointAsync(ct);
            Console.WriteLine($"database app: {target.DatabaseBytes / 1e6:F0} MB, cluster {target.ClusterBytes / 1e6:F0} MB");

            var backup = await new StewardRuns(server, target).BackupAsync(ct);
            Console.WriteLine($"  steward backup {backup.WallSeconds:F2} s");
            var shell = await new ShellRuns(target, work).PipelineAsync(1, ct, startServer: true);
            Console.WriteLine($"  shell restore  {shell.Restore.WallSeconds:F2} s, then pg_ctl start -w {shell.Start!.WallSeconds:F2} s");
            PgBackRest.Result? pgbr = null;
            string? pgbrError = null;
            try
            {
                var pgbackrest = new PgBackRest(target, work);
                await pgbackrest.SetUpAsync(ct);
                pgbr = await pgbackrest.RunAsync(1, ct);
                Console.WriteLine($"  pgBackRest restore {pgbr.Restore.WallSeconds:F2} s");
            }
            catch (InvalidOperationException ex)
            {
                pgbrError = ex.Message;
                Console.WriteLine($"pgBackRest: {ex.Message}");
            }

            // Break the instance the way the tests do (its data directory removed), then rebuild it.
            Files.RemoveTree(target.DataDir);
            var (wall, steps) = await RebuildAsync(server, id, backup.Id, ct);
            Console.WriteLine($"  steward rebuild {wall:F2} s: {string.Join(", ", steps.Select(s => $"{s.Step} {s.Seconds:F2} s"))}");
            var phases = RebuildPhases.Read(server.Log, Path.Combine(target.DataDir, "..", "log", "server.log"), id, backup.Id);
            Console.WriteLine($"  inside the restore step: {string.Join(", ", phases.Select(p => $"{p.Phase} {p.Seconds:F2} s"))}");

            var section = Section(options.Scale, date, machine, target, wall, steps, phases, shell.Restore.WallSeconds, shell.Start!.WallSeconds, pgbr?.Restore.WallSeconds, pgbrError);
            Console.WriteLine(section);
            if (options.WritePath is not null)
            {
                await Report.WriteAsync(options.WritePath, section, Start, End, ct);
                Console.WriteLine($"wrote the rebuild section of {options.WritePath}");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Starts the rebuild and follows its operation every 10 ms: the time spent in each step, from its description.</summary>
    private static async Task<(double Wall, List<(string Step, double Seconds)> Steps)> RebuildAsync(StewardServer server, string id, string backupId, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var started = await server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{id}/rebuild", new { backup_id = backupId }, version: null);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var operation = started.Str("operation")!;
        var steps = new List<(string Step, double Seconds)>();
        var current = "request";
        var since = 0.0;
        while (true)
        {
            var op = (await server.Client.ApiAsync($"/operations/{operation}")).Body;
            var now = clock.Elapsed.TotalSeconds;
            var description = op.Text("description") ?? "?";
            var state = op.Text("state");
            if (state != "in progress" || description != current)
            {
                steps.Add((current, now - since));
                (current, since) = (description, now);
            }

            if (state != "in progress")
            {
                state.ShouldBe("succeeded", op.GetRawText());
                return (now, steps);
            }

            await Task.Delay(10, ct);
        }
    }

    private static string Section(int scale, DateTimeOffset date, MachineInfo machine, Target target, double wall, List<(string Step, double Seconds)> steps, List<(string Phase, double Seconds)> phases, double shellRestore, double shellStart, double? pgbrRestore, string? pgbrError)
    {
        var sb = new StringBuilder();
        void L(string line = "") => sb.AppendLine(line);
        string F(double x) => x.ToString("F2", CultureInfo.InvariantCulture);
        L(Start);
        L("## Rebuild: recovery time against the raw restore of the same backup");
        L();
        L($"`dotnet run -c Release --project bench/Steward.Bench.Backup -- --rebuild --scale {scale} --write docs/benchmarks.md`, {date:yyyy-MM-dd}, {machine.Cores} cores, load average at the start {machine.LoadAverage}. ");
        L($"pgbench scale {scale}: database {target.DatabaseBytes / 1e9:F2} GB, cluster {target.ClusterBytes / 1e9:F2} GB. One run: figures are ratios from the same run, on the same data.");
        L();
        L("The instance's data directory is removed, then `POST /api/v1/instances/{id}/rebuild` with the backup just taken; the **rebuild** time runs");
        L("from the request to the operation's success, which includes the server answering its health probe with the same credentials. The raw");
        L("restores only put the files in place (no server start); the shell restore is also timed with what a person must do next before");
        L("anyone can use the data: `pg_ctl start -w` on the restored directory, as the unprivileged user, until the server accepts connections");
        L("(PostgreSQL syncs the directory, replays the backup's WAL and checkpoints first; the `chown` between the two is not timed).");
        L();
        var usable = shellRestore + shellStart;
        L("| | wall s | vs shell restore | vs shell restore + start | vs pgBackRest restore |");
        L("|---|---|---|---|---|");
        L($"| **Steward rebuild** (request → healthy) | **{F(wall)}** | **{F(wall / shellRestore)}×** | **{F(wall / usable)}×** | {(pgbrRestore is { } p ? F(wall / p) + "×" : "-")} |");
        L($"| shell restore `age -d \\| zstd -d \\| tar -x` | {F(shellRestore)} | 1.00× | {F(shellRestore / usable)}× | {(pgbrRestore is { } q ? F(shellRestore / q) + "×" : "-")} |");
        L($"| shell restore, then `pg_ctl start -w` ({F(shellStart)} s) | {F(usable)} | {F(usable / shellRestore)}× | 1.00× | {(pgbrRestore is { } u ? F(usable / u) + "×" : "-")} |");
        L(pgbrRestore is { } r ? $"| pgBackRest `restore` | {F(r)} | {F(r / shellRestore)}× | {F(r / usable)}× | 1.00× |" : $"| pgBackRest | not measured: {pgbrError} | | | |");
        L();
        L("Where the rebuild's time goes (from its operation's step, polled every 10 ms):");
        L();
        L("| step | s | share |");
        L("|---|---|---|");
        foreach (var (step, seconds) in steps)
        {
            L($"| {step} | {F(seconds)} | {seconds / wall * 100:F0} % |");
        }

        L();
        L("Inside the restore step (the broker's log of its restore pipeline, the PostgreSQL server's log of its start):");
        L();
        L("| phase | s | share of the rebuild |");
        L("|---|---|---|");
        foreach (var (phase, seconds) in phases)
        {
            L($"| {phase} | {F(seconds)} | {seconds / wall * 100:F0} % |");
        }

        L();
        string Met(double baseline) => wall <= 1.2 * baseline ? "met" : "not met";
        L($"Target: rebuild ≤ 1.2× the raw restore. Against the shell restore alone: {Met(shellRestore)} ({F(wall / shellRestore)}×); against the shell restore" +
          $" and the server's start: {Met(usable)} ({F(wall / usable)}×)" + (pgbrRestore is { } t ? $"; against pgBackRest's restore: {Met(t)} ({F(wall / t)}×)." : "."));
        L("The restore step is Steward's streaming restore (storage → age → zstd → digest checks → unpacking in the broker), so its gap to the shell restore is the");
        L("restore gap measured in the backup section above (issue 12); the steps around it (record, fence, preserve, credentials, verify) are what a");
        L("rebuild adds to a raw restore: stopping nothing (the server is already gone), one rename, the server start and its first answer. On an instance");
        L("that archives WAL (the default) the restore step also starts the server in recovery, replays to the end of the backup (fetching WAL");
        L("through the broker) and promotes it onto a new timeline, so that its WAL never collides with the archive: that is part of the restore step's time.");
        L(End);
        return sb.ToString();
    }
}

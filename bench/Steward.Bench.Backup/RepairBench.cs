using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Backup;

/// <summary>
/// <c>--repair</c>: 8 KiB of damage in the largest table file of a pgbench database, with writes after the backup;
/// Steward's repair (only the damaged page, from a copy at the live point) against pgBackRest's <c>--delta</c>
/// restore and a full restore of the same backup: bytes copied, live-server downtime, total time, data lost.
/// </summary>
internal static partial class RepairBench
{
    public const string Start = "<!-- repair:start -->";
    public const string End = "<!-- repair:end -->";

    private const string Check = "SELECT (SELECT sum(abalance) FROM pgbench_accounts)::text || ' ' || (SELECT count(*) FROM pgbench_history)::text";

    public static async Task RunAsync(Options options, CancellationToken ct)
    {
        var date = TimeProvider.System.GetUtcNow();
        var machine = await MachineInfo.ReadAsync([$"{Target.PgBin}/postgres --version", "pgbackrest version"], ct);
        Console.WriteLine($"steward-bench-backup --repair: scale {options.Scale}, {machine.Cores} cores, load {machine.LoadAverage}");
        var work = Path.Combine(Path.GetTempPath(), "steward-bench-repair-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
        try
        {
            await using var server = await StewardServer.StartAsync();
            const string id = "bench-repair";
            var target = await Target.CreateAsync(server, id, options.Scale, ct);
            await target.CheckpointAsync(ct);
            var osb = server.Client;
            Console.WriteLine($"database app: {target.DatabaseBytes / 1e6:F0} MB, cluster {target.ClusterBytes / 1e6:F0} MB");

            var backup = await new StewardRuns(server, target).BackupAsync(ct);
            Console.WriteLine($"  steward backup {backup.WallSeconds:F2} s");
            var pgbackrest = new PgBackRest(target, work);
            await pgbackrest.SetUpAsync(ct);
            await Shell.RunAsync(pgbackrest.Command("--type=full --archive-check=n backup"), Env(target), ct);
            Console.WriteLine("  pgBackRest full backup taken");

            // Writes after both backups: a change on many pages of the big table, and new history rows.
            var after = await Shell.TimeAsync(Psql(target, "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 1000 = 0; INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) SELECT 1, 1, g, 1, now() FROM generate_series(1, 10000) g"), target.AdminEnvironment, ct);
            var updated = options.Scale * 100;
            var expected = (await Shell.RunAsync(Psql(target, Check), target.AdminEnvironment, ct)).Trim();
            var file = (await Shell.RunAsync(Psql(target, "SELECT pg_relation_filepath('pgbench_accounts')"), target.AdminEnvironment, ct)).Trim();
            Console.WriteLine($"  after the backups: {updated} rows updated, 10000 inserted ({after.WallSeconds:F1} s); table file {file}");

            // A clean restart: every page on disk, none cached. Then 8 KiB of damage in the middle of the table's first file.
            (await osb.UpdateAsync(id, Catalogs.PostgreSql, null, new { statement_timeout_ms = 600000 })).Status.ShouldBe(HttpStatusCode.Accepted);
            (await osb.WaitAsync(id, timeoutSeconds: 600)).Str("state").ShouldBe("succeeded");
            var path = Path.Combine(target.DataDir, file);
            var fileBytes = new FileInfo(path).Length;
            var block = fileBytes / 8192 / 2;
            await using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
            {
                stream.Position = (block * 8192) + 5000;
                var b = stream.ReadByte();
                stream.Position--;
                stream.WriteByte((byte)(b ^ 0xFF));
            }

            // The baselines work on a stopped copy of the damaged cluster (the broker would restart its own server).
            var damagedCopy = Path.Combine(work, "damaged");
            await Shell.RunAsync($"cp -a {Shell.Quote(target.DataDir)} {Shell.Quote(damagedCopy)} && rm -f {Shell.Quote(damagedCopy)}/postmaster.pid && chown -R steward:steward {Shell.Quote(damagedCopy)}", null, ct);
            Console.WriteLine($"  damaged block {block} of {file} ({fileBytes / 1e6:F0} MB)");

            var verifyClock = Stopwatch.StartNew();
            var verify = await osb.SendAsync(HttpMethod.Post, $"/api/v1/instances/{id}/verify", new { }, version: null);
            var verifySeconds = verifyClock.Elapsed.TotalSeconds;
            verify.Body.GetProperty("clean").GetBoolean().ShouldBeFalse(verify.ToString());
            Console.WriteLine($"  verify found it in {verifySeconds:F1} s");

            var dryClock = Stopwatch.StartNew();
            var dry = await osb.SendAsync(HttpMethod.Post, $"/api/v1/instances/{id}/repair", new { dry_run = true }, version: null);
            var planSeconds = dryClock.Elapsed.TotalSeconds;
            dry.Status.ShouldBe(HttpStatusCode.OK, dry.ToString());
            var (repairWall, steps, incident) = await RepairAsync(server, id, ct);
            var repair = incident.GetProperty("evidence").GetProperty("repair");
            var repaired = (await Shell.RunAsync(Psql(target, Check), target.AdminEnvironment, ct)).Trim();
            var stewardLost = repaired == expected ? 0 : -1;
            Console.WriteLine($"  steward repair {repairWall:F2} s, {repair.GetProperty("bytes_copied").GetInt64()} bytes, downtime {repair.GetProperty("downtime_seconds").GetDouble():F2} s, data {(stewardLost == 0 ? "intact" : $"DIFFERENT: {repaired} vs {expected}")}");

            // pgBackRest --delta on the damaged copy: it checksums every file and copies those that differ from the backup.
            var log = Path.Combine(work, "delta.log");
            var delta = await Shell.TimeAsync($"{pgbackrest.Command($"--pg1-path={Shell.Quote(damagedCopy)} --delta --type=none --log-level-console=detail restore")} > {Shell.Quote(log)} 2>&1", Env(target), ct);
            var (deltaFiles, deltaBytes) = DeltaCopied(await File.ReadAllTextAsync(log, ct), damagedCopy);
            Console.WriteLine($"  pgBackRest --delta restore {delta.WallSeconds:F2} s, {deltaFiles} files, {deltaBytes} bytes");

            var fullDir = Path.Combine(work, "full");
            await Shell.RunAsync($"mkdir -m 700 {Shell.Quote(fullDir)} && chown steward:steward {Shell.Quote(fullDir)}", null, ct);
            var full = await Shell.TimeAsync(pgbackrest.Command($"--pg1-path={Shell.Quote(fullDir)} --type=none restore"), Env(target), ct);
            var fullBytes = new DirectoryInfo(fullDir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            Console.WriteLine($"  pgBackRest full restore {full.WallSeconds:F2} s, {fullBytes} bytes");

            var section = Section(options.Scale, date, machine, target, file, fileBytes, block, updated, verifySeconds, planSeconds, repairWall, steps, repair, stewardLost == 0, delta.WallSeconds, deltaFiles, deltaBytes, full.WallSeconds, fullBytes);
            Console.WriteLine(section);
            if (options.WritePath is not null)
            {
                await Report.WriteAsync(options.WritePath, section, Start, End, ct);
                Console.WriteLine($"wrote the repair section of {options.WritePath}");
            }
        }
        finally
        {
            await Shell.RunAsync($"rm -rf {Shell.Quote(work)}", null, CancellationToken.None);
        }
    }

    private static IReadOnlyDictionary<string, string> Env(Target target) => new Dictionary<string, string> { ["PGPASSWORD"] = target.AdminPassword, ["PGHOST"] = "127.0.0.1" };

    private static string Psql(Target target, string sql) => $"{Target.PgBin}/psql -d app -U {target.AdminUser} -Atc {Shell.Quote(sql)}";

    /// <summary>Files pgBackRest's delta restore wrote (its detail log names each; those that matched say so) and their bytes.</summary>
    private static (int Files, long Bytes) DeltaCopied(string log, string dataDir)
    {
        var files = 0;
        long bytes = 0;
        foreach (Match m in RestoredFile().Matches(log))
        {
            if (m.Value.Contains("exists and matches", StringComparison.Ordinal) || m.Value.Contains("exists and is zero size", StringComparison.Ordinal))
            {
                continue;
            }

            var path = m.Groups[1].Value;
            files++;
            bytes += File.Exists(path) ? new FileInfo(path).Length : 0;
        }

        return (files, bytes);
    }

    /// <summary>Starts the repair and follows its operation every 10 ms: the time in each step; returns the resolved incident.</summary>
    private static async Task<(double Wall, List<(string Step, double Seconds)> Steps, System.Text.Json.JsonElement Incident)> RepairAsync(StewardServer server, string id, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var started = await server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{id}/repair", new { }, version: null);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var operation = started.Str("operation")!;
        var steps = new List<(string Step, double Seconds)>();
        var current = "request (plan: verify's pages, page scan, WAL chain)";
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
                var incident = (await server.Client.ApiAsync($"/incidents/{started.Str("incident_id")}")).Body;
                return (now, steps, incident);
            }

            await Task.Delay(10, ct);
        }
    }

    private static string Section(int scale, DateTimeOffset date, MachineInfo machine, Target target, string file, long fileBytes, long block, int updated, double verifySeconds, double planSeconds, double repairWall, List<(string Step, double Seconds)> steps, System.Text.Json.JsonElement repair, bool intact, double deltaWall, int deltaFiles, long deltaBytes, double fullWall, long fullBytes)
    {
        var sb = new StringBuilder();
        void L(string line = "") => sb.AppendLine(line);
        string F(double x) => x.ToString("F2", CultureInfo.InvariantCulture);
        string Mb(long b) => (b / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB";
        var copied = repair.GetProperty("bytes_copied").GetInt64();
        var downtime = repair.GetProperty("downtime_seconds").GetDouble();
        var lost = $"{updated} updated rows and 10000 inserted rows (every write after the backup)";
        L(Start);
        L("## Partial repair: 8 KiB of damage, Steward repair vs pgBackRest `--delta` and full restore");
        L();
        L($"`dotnet run -c Release --project bench/Steward.Bench.Backup -- --repair --scale {scale} --write docs/benchmarks.md`, {date:yyyy-MM-dd}, {machine.Cores} cores, load average at the start {machine.LoadAverage}. ");
        L($"pgbench scale {scale}: database {target.DatabaseBytes / 1e9:F2} GB, cluster {target.ClusterBytes / 1e9:F2} GB; `pgbench_accounts` is `{file}` ({Mb(fileBytes)}). One run: the figures are from the same run, on the same data.");
        L();
        L($"After a Steward backup and a pgBackRest full backup, {updated} rows of `pgbench_accounts` are updated and 10000 rows inserted; the server is restarted cleanly (every page");
        L($"on disk, none cached) and one byte of block {block} of `{file}` is flipped: **8192 bytes of damage**. `steward verify` finds it in {F(verifySeconds)} s (pg_amcheck over the whole");
        L("cluster at low priority). Steward's repair then runs on the live instance; the baselines run on a stopped copy of the same damaged data directory.");
        L();
        L("| | bytes copied into the data directory | live-server downtime | total time | data lost |");
        L("|---|---|---|---|---|");
        L($"| **Steward `repair`** | **{copied}** ({F(copied / 8192.0)}× the damage) | **{F(downtime)} s** | {F(repairWall)} s (+ plan {F(planSeconds)} s) | **{(intact ? "none" : "DIFFERENT")}** (sum of balances and history count as before the damage) |");
        L($"| pgBackRest `restore --delta` | {deltaBytes} ({deltaFiles} files, {F(deltaBytes / 8192.0)}× the damage) | ≥ {F(deltaWall)} s (the server is down for the whole restore, then starts and recovers) | {F(deltaWall)} s | {lost}: the files return to the backup's state |");
        L($"| pgBackRest full restore | {fullBytes} ({Mb(fullBytes)}) | ≥ {F(fullWall)} s | {F(fullWall)} s | {lost} |");
        L();
        L($"Targets: bytes copied ≤ 2× the damage: **{(copied <= 2 * 8192 ? "met" : "not met")}** ({copied} bytes); downtime ≤ 2 s: **{(downtime <= 2 ? "met" : "not met")}** ({F(downtime)} s); zero data lost: **{(intact ? "met" : "not met")}**.");
        L();
        L("Where the repair's time goes (its operation's step, polled every 10 ms; downtime is the `stop` → `start` span, measured by the broker):");
        L();
        L("| step | s | share |");
        L("|---|---|---|");
        foreach (var (step, seconds) in steps)
        {
            L($"| {step} | {F(seconds)} | {seconds / repairWall * 100:F0} % |");
        }

        L();
        L("- **Restoring the backup into the copy and replaying the WAL after it** is most of the total, and all of it happens while the live server serves:");
        L("  it is a restore of the whole backup into a sandbox at low priority. Its cost grows with the database and with the WAL written since the");
        L("  backup; taking backups more often shortens it.");
        L("- **Downtime** is the fast shutdown (a checkpoint of the few pages dirtied since the restart), shipping the live server's last WAL segment");
        L("  (16 MiB) to the copy, the copy replaying past the shutdown checkpoint (it retries pg_wal every 100 ms) and writing its pages (a restartpoint),");
        L("  writing 8 KiB, and the server's start and first answer. None of it grows with the database.");
        L("- pgBackRest `--delta` checksums every file of the cluster and copies each file that differs from the backup: the damaged table's whole 1 GiB");
        L("  segment (it changed since the backup anyway) plus every other file written since. Without its own WAL archive it can only bring the");
        L("  cluster back to the backup; with one, it would then replay all the WAL since the backup while the server is down.");
        L(End);
        return sb.ToString();
    }

    [GeneratedRegex(@"restore (?:file|zeroed file) (\S+)[^\n]*")]
    private static partial Regex RestoredFile();
}

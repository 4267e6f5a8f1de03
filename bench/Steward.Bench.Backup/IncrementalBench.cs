using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Npgsql;
using Steward.Bench;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Backup;

/// <summary>
/// <c>--incremental</c>: on one pgbench instance, a Steward <c>incremental</c> backup (the first of its chain: full) and a
/// pgBackRest <c>full</c> backup of the same data; then two changes of about 1 % of the database, each followed by a
/// CHECKPOINT, a Steward incremental backup and a pgBackRest <c>--type=incr</c> backup: 1 % of the rows of
/// <c>pgbench_accounts</c> updated in place (a contiguous range), then 1 % of the database's bytes appended to
/// <c>pgbench_history</c>. For each backup: wall, CPU (the tool's and the PostgreSQL server's), bytes stored, bytes the
/// tool read, and which PostgreSQL query was running while it ran. Ends with a restore of the Steward chain through
/// the API and a check of the data.
/// </summary>
internal static class IncrementalBench
{
    public const string Start = "<!-- incremental:start -->";
    public const string End = "<!-- incremental:end -->";

    private const string Check = "SELECT (SELECT sum(abalance) FROM pgbench_accounts)::text || ' ' || (SELECT count(*) FROM pgbench_history)::text";

    private static readonly string Saved = Path.Combine(Path.GetTempPath(), "steward-bench-incremental.json");

    public static async Task RunAsync(Options options, CancellationToken ct)
    {
        if (options.RenderPath is { } render)
        {
            await EmitAsync(options, JsonSerializer.Deserialize<IncrementalFigures>(await File.ReadAllTextAsync(render, ct), Figures.JsonOptions)!, ct);
            return;
        }

        var total = Stopwatch.StartNew();
        var date = TimeProvider.System.GetUtcNow();
        var machine = await MachineInfo.ReadAsync([$"{Target.PgBin}/postgres --version", "pgbackrest version"], ct);
        Console.WriteLine($"steward-bench-backup --incremental: scale {options.Scale}, {machine.Cores} cores, load {machine.LoadAverage}");
        var work = Path.Combine(Path.GetTempPath(), "steward-bench-incremental-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101);
        IncrementalFigures figures;
        try
        {
            await using var server = await StewardServer.StartAsync();
            try
            {
                figures = await MeasureAsync(server, options, work, date, machine, total, ct);
            }
            finally
            {
                await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "steward-bench-incremental.log"), server.Log, CancellationToken.None);
            }
        }
        finally
        {
            await Shell.RunAsync($"rm -rf {Shell.Quote(work)}", null, CancellationToken.None);
        }

        await File.WriteAllTextAsync(Saved, JsonSerializer.Serialize(figures, Figures.JsonOptions), ct);
        Console.WriteLine($"figures saved to {Saved} (re-render with --incremental --render {Saved})");
        await EmitAsync(options, figures, ct);
    }

    private static async Task EmitAsync(Options options, IncrementalFigures figures, CancellationToken ct)
    {
        var section = IncrementalReport.Section(figures);
        Console.WriteLine();
        Console.WriteLine(section);
        if (options.WritePath is not null)
        {
            await WriteAfterBackupAsync(options.WritePath, section, ct);
            Console.WriteLine($"wrote the incremental section of {options.WritePath}");
        }
    }

    /// <summary>Replaces the section between its markers, or puts it right after the backup section when it is not there yet.</summary>
    private static async Task WriteAfterBackupAsync(string path, string section, CancellationToken ct)
    {
        var text = File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : "# Benchmarks\n";
        var at = text.IndexOf(Report.End, StringComparison.Ordinal);
        if (text.Contains(Start, StringComparison.Ordinal) || at < 0)
        {
            await Report.WriteAsync(path, section, Start, End, ct);
            return;
        }

        at += Report.End.Length;
        await File.WriteAllTextAsync(path, string.Concat(text.AsSpan(0, at), "\n\n", section.TrimEnd('\n'), text.AsSpan(at)), ct);
    }

    private static async Task<IncrementalFigures> MeasureAsync(StewardServer server, Options options, string work, DateTimeOffset date, MachineInfo machine, Stopwatch total, CancellationToken ct)
    {
        const string id = "bench-incremental";
        var load = Stopwatch.StartNew();
        var target = await Target.CreateAsync(server, id, options.Scale, ct);
        var loadSeconds = load.Elapsed.TotalSeconds;
        await target.CheckpointAsync(ct);
        Console.WriteLine($"database app: {target.DatabaseBytes / 1e6:F0} MB, cluster {target.ClusterBytes / 1e6:F0} MB");

        var pgbackrest = new PgBackRest(target, work);
        await pgbackrest.SetUpAsync(ct);
        var relations = await RelationsAsync(target, ct);
        var steps = new List<Step>();
        var stewardIds = new List<string>();

        // 1. The base of both chains: everything.
        var files = Snapshot(target.DataDir);
        var stewardFull = await StewardBackupAsync(server, target, work, ct);
        stewardIds.Add(stewardFull.Id);
        Print("steward incremental (first: full)", stewardFull);
        var pgbrFull = await PgBackRestBackupAsync(pgbackrest, target, work, "full", ct);
        Print("pgBackRest full", pgbrFull);
        steps.Add(new Step("full", "none: the first backup of each chain", 0, 0, 0, Touched(null, files, relations), stewardFull, pgbrFull));

        // 2. 1 % of the rows of the biggest table, a contiguous range, updated in place.
        var rows = options.Scale * 1000;
        var update = $"UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= {rows}";
        var pagesSql = $"SELECT count(DISTINCT (ctid::text::point)[0]) FROM pgbench_accounts WHERE aid <= {rows}";
        var oldPages = long.Parse(await PsqlAsync(target, pagesSql, ct), CultureInfo.InvariantCulture);
        steps.Add(await ChangeAsync(server, target, work, pgbackrest, relations, "update", update, rows, async () => oldPages + long.Parse(await PsqlAsync(target, pagesSql, ct), CultureInfo.InvariantCulture), stewardIds, ct));

        // 3. 1 % of the database's bytes appended to pgbench_history (about 77 bytes a row there).
        var history = target.DatabaseBytes / 100 / 77;
        var insert = $"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) SELECT 1 + g % {options.Scale * 10}, 1 + g % {options.Scale}, 1 + g % {options.Scale * 100000}, 1, now() FROM generate_series(1, {history}) g";
        var historyBefore = long.Parse(await PsqlAsync(target, "SELECT pg_relation_size('pgbench_history')", ct), CultureInfo.InvariantCulture);
        steps.Add(await ChangeAsync(server, target, work, pgbackrest, relations, "append", insert, history, async () => (long.Parse(await PsqlAsync(target, "SELECT pg_relation_size('pgbench_history')", ct), CultureInfo.InvariantCulture) - historyBefore) / 8192, stewardIds, ct));

        // The chain restores: the history rows deleted after the last backup come back, the balances are the backup's.
        var expected = await PsqlAsync(target, Check, ct);
        await PsqlAsync(target, "DELETE FROM pgbench_history", ct);
        var restore = await new StewardRuns(server, target).RestoreAsync(stewardIds[^1], ct);
        var restored = await PsqlAsync(target, Check, ct);
        Console.WriteLine($"  steward restore of the chain {string.Join(" <- ", stewardIds)}: {restore.WallSeconds:F2} s, data {(restored == expected ? "as at the last backup" : $"DIFFERENT: {restored} vs {expected}")}");

        var deprovision = await server.Client.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
        if (deprovision.Status == HttpStatusCode.Accepted)
        {
            await server.Client.WaitAsync(id, deprovision.Str("operation"), timeoutSeconds: 600);
        }

        return new IncrementalFigures(options.Scale, date, total.Elapsed.TotalMinutes, machine, await MachineInfo.LoadAsync(ct), target.DatabaseBytes, target.ClusterBytes, loadSeconds,
            steps, stewardIds.Count, restore.WallSeconds, restored == expected, PgBackRest.Version ?? "pgBackRest");
    }

    private static async Task<Step> ChangeAsync(StewardServer server, Target target, string work, PgBackRest pgbackrest, Dictionary<string, string> relations, string name, string sql, long rows, Func<Task<long>> pages, List<string> stewardIds, CancellationToken ct)
    {
        var before = Snapshot(target.DataDir);
        var change = await Shell.TimeAsync(Psql(target, sql), target.AdminEnvironment, ct);

        // Any reader of the changed rows sets their hint bits; one does it here, so both tools see the same files.
        await PsqlAsync(target, "SELECT count(*) FROM pgbench_accounts; SELECT count(*) FROM pgbench_history", ct);
        await target.CheckpointAsync(ct);
        var heapPages = await pages();
        var touched = Touched(before, Snapshot(target.DataDir), relations);
        Console.WriteLine($"{name}: `{sql}` in {change.WallSeconds:F1} s; {heapPages} heap pages written; {touched.Count} files touched ({touched.Sum(t => t.Size) / 1e6:F1} MB)");
        var steward = await StewardBackupAsync(server, target, work, ct);
        stewardIds.Add(steward.Id);
        Print("steward incremental", steward);
        var pgbr = await PgBackRestBackupAsync(pgbackrest, target, work, "incr", ct);
        Print("pgBackRest incr", pgbr);
        return new Step(name, sql, rows, heapPages, change.WallSeconds, touched, steward, pgbr);
    }

    private static void Print(string what, Run r) =>
        Console.WriteLine($"  {what,-34} {r.WallSeconds,6:F2} s wall, CPU {r.ToolCpu:F2} s + server {r.ServerCpu:F2} s, stored {r.StoredBytes / 1e6:F1} MB, copied {r.CopiedBytes / 1e6:F1} MB, read {r.ReadBytes / 1e6:F1} MB; {string.Join(", ", r.Activity.Select(a => $"{a.Key} {a.Value:F2} s"))}");

    /// <summary>A Steward <c>incremental</c> backup through the API, polled every 50 ms, with the broker's CPU and reads.</summary>
    private static async Task<Run> StewardBackupAsync(StewardServer server, Target target, string work, CancellationToken ct)
    {
        var pid = server.Pid ?? throw new InvalidOperationException("the broker is not running");
        var io = ReadIo(pid);
        var serverCpu = ServerCpu(target);
        await using var activity = await Activity.StartAsync(target, ct);
        var clock = Stopwatch.StartNew();
        JsonElement done;
        var sampler = new Sampler(pid);
        await using (sampler)
        {
            var started = await server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{target.Id}/backups", new { kind = "incremental" }, version: null);
            started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
            var backupId = started.Str("id")!;
            while (true)
            {
                var reply = (await server.Client.ApiAsync($"/backups/{backupId}")).Body;
                if (reply.Text("state") != "in progress")
                {
                    done = reply;
                    break;
                }

                await Task.Delay(50, ct);
            }
        }

        var wall = clock.Elapsed.TotalSeconds;
        var profile = await activity.StopAsync();
        var read = ReadIo(pid) - io;
        var cpu = ServerCpu(target) - serverCpu;
        done.Text("state").ShouldBe("succeeded", done.GetRawText());
        var properties = done.GetProperty("manifest").GetProperty("properties");
        long P(string key) => long.Parse(properties.Text(key) ?? "0", CultureInfo.InvariantCulture);
        var wal = (properties.Text("files") ?? string.Empty).Split('\n').Select(l => l.Split('\t')).Where(f => f.Length == 4 && f[3].StartsWith("pg_wal/", StringComparison.Ordinal)).Sum(f => long.Parse(f[1], CultureInfo.InvariantCulture));
        return new Run(
            done.Text("id")!, properties.Text("backup_type") ?? "?", wall, done.Number("duration_seconds") ?? double.NaN,
            sampler.End.OwnSeconds - sampler.Start.OwnSeconds + sampler.End.ReapedChildrenSeconds - sampler.Start.ReapedChildrenSeconds, cpu,
            (long)done.Number("stored_bytes")!, (long)done.Number("plaintext_bytes")!, P("changed_files"), P("changed_bytes"), wal, read, profile);
    }

    /// <summary>A pgBackRest backup of <paramref name="type"/>, timed by GNU time; its reads from /proc/$$/io of the shell that reaped it.</summary>
    private static async Task<Run> PgBackRestBackupAsync(PgBackRest pgbackrest, Target target, string work, string type, CancellationToken ct)
    {
        var ioFile = Path.Combine(work, "pgbackrest-io.txt");
        var serverCpu = ServerCpu(target);
        await using var activity = await Activity.StartAsync(target, ct);
        var timed = await Shell.TimeAsync($"{pgbackrest.Command($"--type={type} --archive-check=n backup")}; grep -E '^rchar' /proc/$$/io > {Shell.Quote(ioFile)}; true", Env(target), ct);
        var profile = await activity.StopAsync();
        var cpu = ServerCpu(target) - serverCpu;
        var read = long.Parse((await File.ReadAllTextAsync(ioFile, ct)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].Trim(), CultureInfo.InvariantCulture);
        var info = JsonDocument.Parse(await Shell.RunAsync(pgbackrest.Command("--output=json info"), Env(target), ct)).RootElement[0].GetProperty("backup");
        var last = info[info.GetArrayLength() - 1];
        var sizes = last.GetProperty("info");
        var repository = sizes.GetProperty("repository");
        return new Run(
            last.Text("label")!, last.Text("type")!, timed.WallSeconds, timed.WallSeconds, timed.CpuSeconds, cpu,
            (long)repository.Number("delta")!, (long)sizes.Number("size")!, -1, (long)sizes.Number("delta")!, 0, read, profile);
    }

    /// <summary>CPU seconds of the PostgreSQL server so far: the postmaster and every live descendant, each with the children it reaped.</summary>
    private static double ServerCpu(Target target)
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(target.DataDir, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        return new[] { ProcStat.Read(postmaster) }.Concat(ProcStat.Descendants(postmaster).Select(p => (ProcStat?)p))
            .Sum(p => p is { } s ? s.OwnSeconds + s.ReapedChildrenSeconds : 0);
    }

    /// <summary>Bytes a process and the children it reaped read through read(2) and friends (rchar: page cache or disk alike).</summary>
    private static long ReadIo(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/io").First(l => l.StartsWith("rchar:", StringComparison.Ordinal))["rchar:".Length..].Trim(), CultureInfo.InvariantCulture);

    /// <summary>Every file a file-level backup would consider, with its size and modification time.</summary>
    private static Dictionary<string, (long Size, DateTime Modified)> Snapshot(string dataDir)
    {
        var skipped = new[] { "pg_wal/", "pg_stat_tmp/", "pg_replslot/", "pg_dynshmem/", "pg_notify/", "pg_serial/", "pg_snapshots/", "pg_subtrans/" };
        var files = new Dictionary<string, (long, DateTime)>(StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(dataDir).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(dataDir, file.FullName);
            if (!skipped.Any(s => relative.StartsWith(s, StringComparison.Ordinal)) && !file.Name.StartsWith("pgsql_tmp", StringComparison.Ordinal) && file.Name != "postmaster.pid")
            {
                files[relative] = (file.Length, file.LastWriteTimeUtc);
            }
        }

        return files;
    }

    /// <summary>The files that are new or whose size or time changed, with the relation each belongs to.</summary>
    private static List<TouchedFile> Touched(Dictionary<string, (long Size, DateTime Modified)>? before, Dictionary<string, (long Size, DateTime Modified)> after, Dictionary<string, string> relations) =>
        [.. after.Where(f => before is null || !before.TryGetValue(f.Key, out var b) || b != f.Value)
            .Select(f => new TouchedFile(f.Key, Relation(f.Key, relations), f.Value.Size))
            .OrderByDescending(f => f.Size)];

    private static string Relation(string path, Dictionary<string, string> relations)
    {
        var name = Path.GetFileName(path);
        var fork = name.EndsWith("_fsm", StringComparison.Ordinal) ? " (free space map)" : name.EndsWith("_vm", StringComparison.Ordinal) ? " (visibility map)" : string.Empty;
        var main = name.Split('_')[0];
        var segment = main.Contains('.', StringComparison.Ordinal) ? main[(main.IndexOf('.', StringComparison.Ordinal) + 1)..] : "0";
        var file = Path.Combine(Path.GetDirectoryName(path) ?? string.Empty, main.Split('.')[0]);
        return relations.TryGetValue(file, out var relation)
            ? $"{relation}{fork}{(fork.Length == 0 ? $" segment {segment}" : string.Empty)}"
            : path.StartsWith("base/", StringComparison.Ordinal) ? "other relation" : path.Split('/')[0];
    }

    /// <summary>The files of database app's relations: data-directory-relative path → name.</summary>
    private static async Task<Dictionary<string, string>> RelationsAsync(Target target, CancellationToken ct)
    {
        var rows = await PsqlAsync(target, "SELECT pg_relation_filepath(c.oid) || '|' || c.relname FROM pg_class c WHERE pg_relation_filepath(c.oid) IS NOT NULL", ct);
        return rows.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split('|')).ToDictionary(r => r[0], r => r[1], StringComparer.Ordinal);
    }

    private static IReadOnlyDictionary<string, string> Env(Target target) => new Dictionary<string, string> { ["PGPASSWORD"] = target.AdminPassword, ["PGHOST"] = "127.0.0.1" };

    private static string Psql(Target target, string sql) => $"{Target.PgBin}/psql -d app -U {target.AdminUser} -v ON_ERROR_STOP=1 -Atc {Shell.Quote(sql)}";

    private static async Task<string> PsqlAsync(Target target, string sql, CancellationToken ct) => (await Shell.RunAsync(Psql(target, sql), target.AdminEnvironment, ct)).Trim();

    internal sealed record TouchedFile(string Path, string Relation, long Size);

    /// <summary>One backup. Stored: the bytes it added to storage. Copied: the bytes of data files it took (Steward: changed_bytes; pgBackRest: info.delta). Read: rchar of the tool.</summary>
    internal sealed record Run(
        string Id, string Type, double WallSeconds, double ToolSeconds, double ToolCpu, double ServerCpu,
        long StoredBytes, long PlaintextBytes, long ChangedFiles, long CopiedBytes, long WalBytes, long ReadBytes, Dictionary<string, double> Activity);

    internal sealed record Step(string Name, string Change, long Rows, long HeapPages, double ChangeSeconds, List<TouchedFile> Touched, Run Steward, Run PgBackRest);

    internal sealed record IncrementalFigures(
        int Scale, DateTimeOffset Date, double RunMinutes, MachineInfo Machine, string LoadAfter, long DatabaseBytes, long ClusterBytes, double LoadSeconds,
        List<Step> Steps, int ChainLength, double RestoreSeconds, bool RestoreMatched, string PgBackRestVersion);

    /// <summary>
    /// Samples pg_stat_activity every 50 ms while a backup runs and charges each interval to what the server was
    /// doing for a client: row counts, pg_backup_start (its checkpoint), pg_backup_stop, another query, or nothing.
    /// </summary>
    private sealed class Activity : IAsyncDisposable
    {
        public const string RowCounts = "count(*) queries";
        public const string BackupStart = "pg_backup_start";
        public const string BackupStop = "pg_backup_stop";
        public const string Other = "other queries";
        public const string Idle = "no query running";

        private readonly NpgsqlConnection _conn;
        private readonly CancellationTokenSource _stop = new();
        private readonly Dictionary<string, double> _seconds = [];
        private Task _loop = Task.CompletedTask;

        private Activity(NpgsqlConnection conn) => _conn = conn;

        public static async Task<Activity> StartAsync(Target target, CancellationToken ct)
        {
            var conn = new NpgsqlConnection($"Host=127.0.0.1;Port={target.Port};Username={target.AdminUser};Password={target.AdminPassword};Database=postgres;Pooling=false");
            await conn.OpenAsync(ct);
            var activity = new Activity(conn);
            activity._loop = Task.Run(activity.LoopAsync, ct);
            return activity;
        }

        public async Task<Dictionary<string, double>> StopAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            return _seconds;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await StopAsync();
            }

            await _conn.DisposeAsync();
            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            var clock = Stopwatch.StartNew();
            var last = 0.0;
            await using var cmd = new NpgsqlCommand("SELECT coalesce(string_agg(query, ' ;; '), '') FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'", _conn);
            while (!_stop.IsCancellationRequested)
            {
                string queries;
                try
                {
                    queries = (string)(await cmd.ExecuteScalarAsync(_stop.Token))!;
                }
                catch (Exception ex) when (ex is OperationCanceledException or NpgsqlException)
                {
                    return;
                }

                var kind = queries.Contains("count(*)", StringComparison.OrdinalIgnoreCase) ? RowCounts
                    : queries.Contains("pg_backup_start", StringComparison.Ordinal) ? BackupStart
                    : queries.Contains("pg_backup_stop", StringComparison.Ordinal) ? BackupStop
                    : queries.Length > 0 ? Other
                    : Idle;
                var now = clock.Elapsed.TotalSeconds;
                _seconds[kind] = _seconds.GetValueOrDefault(kind) + (now - last);
                last = now;
                try
                {
                    await Task.Delay(50, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.CommandLine;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;
using Steward.Server.Tests.Wal;

namespace Steward.Server.Tests.Rebuild;

/// <summary>
/// Rebuild over fix: from whatever broken state, an instance comes back from its backup under the same id, port and
/// credentials, its broken files kept aside for inspection, and the rebuild recorded with what it achieved.
/// </summary>
[Collection("rebuild")]
public sealed class RebuildTests(RebuildBroker broker)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    private OsbClient Osb => broker.Client;

    [Fact]
    public async Task A_PostgreSQL_instance_whose_data_directory_was_deleted_is_rebuilt_by_its_developer_with_the_same_port_and_credentials()
    {
        var id = "rb-rm-" + Guid.NewGuid().ToString("N")[..6];
        var (uri, token) = await PostgreSqlWithBackupAsync(id);
        var lateCommit = await Pitr.ServerClockAsync(uri);
        await Pitr.WaitRecoverableAsync(Osb, id, lateCommit);
        var before = await InstanceAsync(id);
        var directory = before.GetProperty("directory").GetString()!;

        Files.RemoveTree(Path.Combine(directory, "data"));

        // The developer, with the instance token from the binding: no administrator.
        var started = await broker.Server.RequestRebuildAsync(id, null, token);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var done = await Osb.WaitOperationAsync(started.Str("operation")!);
        done.GetProperty("state").GetString().ShouldBe("succeeded", done.GetRawText());

        started.Str("target")!.ShouldContain("the latest archived state");
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM orders")).ShouldBe("6000", "the latest recoverable point: the backup and every row archived after it");
        var after = await InstanceAsync(id);
        after.GetProperty("port").GetInt32().ShouldBe(before.GetProperty("port").GetInt32());
        after.GetProperty("directory").GetString().ShouldBe(directory);
        after.GetProperty("state").GetString().ShouldBe("ready");

        var incident = await Osb.IncidentAsync(started.Str("incident_id")!);
        incident.GetProperty("state").GetString().ShouldBe("resolved", incident.GetRawText());
        var preserved = incident.GetProperty("preserved_path").GetString()!;
        preserved.ShouldStartWith(Path.Combine(broker.Server.DataDir, "preserved") + "/");
        File.Exists(Path.Combine(preserved, "log", "server.log")).ShouldBeTrue("the broken instance's log is kept for inspection");
        File.Exists(Path.Combine(preserved, "config", "postgresql.conf")).ShouldBeTrue();
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(preserved, "REBUILD.json"))).RootElement;
        report.GetProperty("evidence").GetProperty("backup_id").GetString().ShouldBe(started.Str("backup_id"));
        var rebuild = incident.GetProperty("evidence").GetProperty("rebuild");
        rebuild.GetProperty("recovery_time_seconds").GetDouble().ShouldBeGreaterThan(0);
        rebuild.GetProperty("data_loss_window_seconds").GetDouble().ShouldBeGreaterThanOrEqualTo(0);
        rebuild.GetProperty("recovery_point").GetDateTimeOffset().ShouldBeGreaterThanOrEqualTo(lateCommit - TimeSpan.FromSeconds(1), "the recovery point is the last replayed commit, not the backup");
        done.GetProperty("description").GetString()!.ShouldContain(preserved);

        // The instance archives WAL: the rebuilt server continues on a new timeline, so its WAL never collides with
        // what the archive holds from before, and archiving goes on without a failure.
        await Sql.ExecAsync(uri, "INSERT INTO orders SELECT g, 'after' FROM generate_series(6001, 7000) g");
        var wal = await WaitAsync(async () => (await Osb.ApiAsync($"/instances/{id}/wal")).Body is var w && w.GetProperty("timeline").ValueKind == JsonValueKind.Number && w.GetProperty("timeline").GetInt32() > 1 ? w : default, 60);
        wal.GetProperty("archiving").GetBoolean().ShouldBeTrue(wal.GetRawText());
        wal.GetRawText().ShouldNotContain("\"last_failed_segment\":\"", Case.Sensitive, "archiving failed after the rebuild");
        await Osb.DeprovisionGoneAsync(id, Pg, PgPlan);
    }

    [Fact]
    public async Task A_quarantined_PostgreSQL_instance_without_pg_control_is_rebuilt_through_an_OSB_update_and_its_broken_files_are_kept()
    {
        var id = "rb-ctl-" + Guid.NewGuid().ToString("N")[..6];
        var instance = await InstanceAsync(id, provision: true);
        var directory = instance.GetProperty("directory").GetString()!;

        // Archiving fails from before the late rows on (the broker URL the server calls is wrong), so those rows are
        // only in the server's own pg_wal when it breaks.
        var (uri, _) = await PostgreSqlWithBackupAsync(id, beforeLateRows: () => File.WriteAllText(Path.Combine(directory, "config", "wal.url"), "http://127.0.0.1:9/wal/nowhere\n"));
        var unarchived = await WaitAsync(async () => (await Osb.ApiAsync($"/instances/{id}/wal")).Body is var w && w.TryGetProperty("pending_segments", out var p) && p.GetInt32() > 0 ? w : default, 60);
        File.Delete(Path.Combine(directory, "data", "global", "pg_control"));
        Processes.Kill(instance.GetProperty("process").GetProperty("pid").GetInt32(), 9);
        var quarantine = await WaitAsync(async () => (await Osb.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray().FirstOrDefault(i => i.GetProperty("state").GetString() == "quarantined"), 60);
        (await InstanceAsync(id)).GetProperty("state").GetString().ShouldBe("quarantined");

        // As a platform CLI does it: cf update-service db -c '{"rebuild": true}'.
        var update = await Osb.UpdateAsync(id, Pg, null, new { rebuild = true });
        update.Status.ShouldBe(HttpStatusCode.Accepted, update.ToString());
        update.Body.EnumerateObject().Select(p => p.Name).ShouldBe(["operation"]);
        var last = await Osb.WaitAsync(id, update.Str("operation"), 180);
        last.Str("state").ShouldBe("succeeded", last.ToString());

        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM orders")).ShouldBe("6000", $"the rows never archived come back from the old server's pg_wal ({unarchived.GetRawText()})");
        var incident = await Osb.IncidentAsync(quarantine.GetProperty("id").GetString()!);
        incident.GetProperty("timeline").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "wal-rescued").GetProperty("detail").GetString()!.ShouldContain("preserved pg_wal");
        incident.GetProperty("state").GetString().ShouldBe("resolved", "the quarantine's incident records the rebuild that ended it");
        var preserved = incident.GetProperty("preserved_path").GetString()!;
        File.Exists(Path.Combine(preserved, "QUARANTINED")).ShouldBeTrue();
        Directory.Exists(Path.Combine(preserved, "data", "base")).ShouldBeTrue("the damaged data directory is kept as it was");
        File.Exists(Path.Combine(preserved, "data", "global", "pg_control")).ShouldBeFalse();
        File.Exists(Path.Combine(directory, "data", "global", "pg_control")).ShouldBeTrue();
        incident.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ShouldContain("rebuilt");
        await WaitAsync(async () => (await InstanceAsync(id)).GetProperty("health").GetProperty("status").GetString() == "healthy" ? "yes" : null, 30);
        await Osb.DeprovisionGoneAsync(id, Pg, PgPlan);
    }

    [Fact]
    public async Task A_rebuild_to_a_point_in_time_with_the_CLI_brings_back_exactly_what_was_committed_before_it_and_bad_targets_change_nothing()
    {
        var id = "rb-pit-" + Guid.NewGuid().ToString("N")[..6];
        var (uri, token) = await PostgreSqlWithBackupAsync(id);
        var good = await Pitr.ServerClockAsync(uri);
        await Pitr.WaitServerClockAsync(uri, good + TimeSpan.FromMilliseconds(1200));
        await Sql.ExecAsync(uri, "DELETE FROM orders WHERE id > 100");
        var mistake = await Pitr.ServerClockAsync(uri);
        await Pitr.WaitRecoverableAsync(Osb, id, mistake);
        var pid = (await InstanceAsync(id)).GetProperty("process").GetProperty("pid").GetInt32();

        // Targets that cannot be reached or read are refused before anything happens.
        foreach (var (body, expected) in new (object, string)[]
        {
            (new { to_time = "yesterday" }, "is not an RFC 3339 time"),
            (new { to_time = "2000-01-01T00:00:00Z" }, "is before the earliest recoverable time"),
            (new { to_time = good.UtcDateTime.ToString("O"), backup_id = "bk-x" }, "at most one of"),
            (new { to_lsn = "zz" }, "is not an LSN"),
            (new { to_restore_point = "never-made" }, "has no restore point 'never-made'"),
        })
        {
            var refused = await broker.Server.RequestRebuildAsync(id, body, token);
            refused.Status.ShouldBe(HttpStatusCode.BadRequest, refused.ToString());
            refused.Str("description")!.ShouldContain(expected);
        }

        (await InstanceAsync(id)).GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(pid, "a refused rebuild touches nothing");
        (await InstanceAsync(id)).GetProperty("last_operation").GetProperty("kind").GetString().ShouldNotBe("rebuild");

        var between = good + ((mistake - good) / 2);
        var tokenFile = Path.Combine(broker.Server.Root, "token-" + id);
        await File.WriteAllTextAsync(tokenFile, token);
        var cli = await Cli.RunAsync(
            new Dictionary<string, string?> { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = null, ["STEWARD_PASSWORD"] = null, ["STEWARD_DATA_DIR"] = "/nonexistent" },
            null,
            "--token-file", tokenFile, "rebuild", id, "--to-time", between.UtcDateTime.ToString("O"), "--reason", "rows deleted by mistake");
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Stderr.ShouldContain("with its archived WAL replayed to " + between.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss"));
        cli.Stderr.ShouldContain("done");

        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM orders")).ShouldBe("6000", "every row committed before the target, none of the deletion after it");
        var incident = (await Osb.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray()
            .Single(i => i.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "rebuilt"));
        var rebuild = incident.GetProperty("evidence").GetProperty("rebuild");
        rebuild.GetProperty("recovery_point").GetDateTimeOffset().ShouldBe(between, TimeSpan.FromMilliseconds(1));
        rebuild.GetProperty("target").GetString()!.ShouldContain("on timeline 1");
        await Osb.DeprovisionGoneAsync(id, Pg, PgPlan);
    }

    [Fact]
    public async Task A_crash_looping_Redis_instance_quarantined_by_the_supervisor_is_rebuilt_with_the_CLI_and_its_keys_and_credentials_come_back()
    {
        var id = "rb-redis-" + Guid.NewGuid().ToString("N")[..6];
        await Osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            for (var i = 0; i < 100; i++)
            {
                await conn.ExecuteAsync(["SET", $"key:{i}", $"value {i}"], default);
            }
        }

        var backup = await Osb.BackupAsync(id);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            await conn.ExecuteAsync(["SET", "key:late", "x"], default);
        }

        // Every server that starts dies half a second later, until the supervisor's budget is spent.
        var directory = (await InstanceAsync(id)).GetProperty("directory").GetString()!;
        var pidFile = Path.Combine(directory, "run", "server.pid");
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            var killer = Task.Run(async () =>
            {
                var killed = new HashSet<int>();
                while (!stop.IsCancellationRequested)
                {
                    if (int.TryParse((File.Exists(pidFile) ? await File.ReadAllTextAsync(pidFile) : string.Empty).Trim(), out var pid) && killed.Add(pid))
                    {
                        await Task.Delay(500);
                        Processes.Kill(pid, 9);
                    }

                    await Task.Delay(50);
                }
            });
            await WaitAsync(async () => (await InstanceAsync(id)).GetProperty("state").GetString() == "quarantined" ? "yes" : null, 60);
            await stop.CancelAsync();
            await killer;
        }

        var tokenFile = Path.Combine(broker.Server.Root, "token-" + id);
        await File.WriteAllTextAsync(tokenFile, credentials.GetProperty("steward_api").GetProperty("token").GetString());
        var cli = await Cli.RunAsync(
            new Dictionary<string, string?> { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = null, ["STEWARD_PASSWORD"] = null, ["STEWARD_DATA_DIR"] = "/nonexistent" },
            null,
            "--token-file", tokenFile, "rebuild", id, "--reason", "crash loop after a bad deploy");
        cli.ExitCode.ShouldBe(0, cli.ToString());
        cli.Stdout.Trim().ShouldStartWith("op-");
        cli.Stderr.ShouldContain($"from backup {backup.Text("id")}");
        cli.Stderr.ShouldContain("done");

        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            (await conn.ExecuteAsync(["DBSIZE"], default)).AsText().ShouldBe("100");
            (await conn.ExecuteAsync(["GET", "key:42"], default)).AsText().ShouldBe("value 42");
        }

        var incidents = (await Osb.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray().ToList();
        var rebuilt = incidents.Single(i => i.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "rebuilt"));
        rebuilt.GetProperty("timeline").EnumerateArray().First(e => e.GetProperty("kind").GetString() == "rebuild-requested").GetProperty("detail").GetString()!.ShouldContain("crash loop after a bad deploy");
        Directory.Exists(rebuilt.GetProperty("preserved_path").GetString()).ShouldBeTrue();
        await Osb.DeprovisionGoneAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_rebuild_is_refused_precisely_and_changes_nothing_without_a_backup_with_another_instances_token_or_with_bad_input()
    {
        var mine = "rb-no-" + Guid.NewGuid().ToString("N")[..6];
        var theirs = "rb-their-" + Guid.NewGuid().ToString("N")[..6];
        await Osb.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await Osb.ProvisionReadyAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await Osb.BindReadyAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        var pid = (await InstanceAsync(mine)).GetProperty("process").GetProperty("pid").GetInt32();
        var theirPid = (await InstanceAsync(theirs)).GetProperty("process").GetProperty("pid").GetInt32();

        var noBackup = await broker.Server.RequestRebuildAsync(mine, null, token);
        noBackup.Status.ShouldBe(HttpStatusCode.BadRequest, noBackup.ToString());
        noBackup.Str("description")!.ShouldContain("has no succeeded backup to rebuild from");
        noBackup.Str("description")!.ShouldContain("\"empty\": true", Case.Sensitive, "names the explicit way out");

        (await broker.Server.RequestRebuildAsync(theirs, null, token)).Status.ShouldBe(HttpStatusCode.NotFound);
        (await broker.Server.RequestRebuildAsync(mine, new { backup_id = "bk-none" }, token)).Status.ShouldBe(HttpStatusCode.NotFound);
        var both = await broker.Server.RequestRebuildAsync(mine, new { backup_id = "bk-none", empty = true }, token);
        both.Status.ShouldBe(HttpStatusCode.BadRequest);
        both.Str("description")!.ShouldContain("at most one of backup_id, latest, to_time, to_lsn, to_restore_point and empty");
        var noWal = await broker.Server.RequestRebuildAsync(mine, new { to_time = "2026-11-30T00:00:00Z" }, token);
        noWal.Status.ShouldBe(HttpStatusCode.BadRequest, noWal.ToString());
        noWal.Str("description")!.ShouldContain("has no archived WAL to replay to");
        var unknown = await broker.Server.RequestRebuildAsync(mine, new { to = "yesterday" }, token);
        unknown.Status.ShouldBe(HttpStatusCode.BadRequest);
        unknown.Str("description")!.ShouldContain("unknown field 'to'");
        var osb = await Osb.UpdateAsync(mine, Catalogs.Redis, null, new { rebuild = "yes" });
        osb.Status.ShouldBe(HttpStatusCode.BadRequest, osb.ToString());
        osb.Str("description")!.ShouldContain("parameters.rebuild must be true or an object");

        // Nothing happened: same processes, no operation, no preserved copy.
        (await InstanceAsync(mine)).GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(pid);
        (await InstanceAsync(theirs)).GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(theirPid);
        (await InstanceAsync(mine)).GetProperty("last_operation").GetProperty("kind").GetString().ShouldBe("provision");
        var internalId = Path.GetFileName((await InstanceAsync(mine)).GetProperty("directory").GetString()!);
        broker.Server.Preserved().ShouldNotContain(p => Path.GetFileName(p).StartsWith(internalId, StringComparison.Ordinal));

        // Asked for explicitly, an empty rebuild is allowed: no data, the same credentials.
        var empty = await broker.Server.RequestRebuildAsync(mine, new { empty = true }, token);
        empty.Status.ShouldBe(HttpStatusCode.Accepted, empty.ToString());
        (await Osb.WaitOperationAsync(empty.Str("operation")!)).GetProperty("state").GetString().ShouldBe("succeeded");
        (await InstanceAsync(mine)).GetProperty("process").GetProperty("pid").GetInt32().ShouldNotBe(pid);
        (await InstanceAsync(theirs)).GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(theirPid, "another instance is never touched");
        await Osb.DeprovisionGoneAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await Osb.DeprovisionGoneAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    /// <summary>A PostgreSQL instance with 5000 rows in a backup and 1000 more written after it.</summary>
    private async Task<(string Uri, string Token)> PostgreSqlWithBackupAsync(string id, Action? beforeLateRows = null)
    {
        if ((await Osb.ApiAsync($"/instances/{id}")).Status == HttpStatusCode.NotFound)
        {
            await Osb.ProvisionReadyAsync(id, Pg, PgPlan);
        }

        var credentials = await Osb.BindReadyAsync(id, "app-" + id, Pg, PgPlan);
        var uri = credentials.GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 5000) g");
        await Osb.BackupAsync(id);
        beforeLateRows?.Invoke();
        await Sql.ExecAsync(uri, "INSERT INTO orders SELECT g, 'late' FROM generate_series(5001, 6000) g");
        return (uri, credentials.GetProperty("steward_api").GetProperty("token").GetString()!);
    }

    private async Task<JsonElement> InstanceAsync(string id, bool provision = false)
    {
        if (provision)
        {
            await Osb.ProvisionReadyAsync(id, Pg, PgPlan);
        }

        return (await Osb.ApiAsync($"/instances/{id}")).Body;
    }

    private async Task<T> WaitAsync<T>(Func<Task<T?>> probe, int seconds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (value is not null && !(value is JsonElement { ValueKind: JsonValueKind.Undefined }))
            {
                return value;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"not reached within {seconds} s\n{broker.Server.Log}");
            }

            await Task.Delay(100);
        }
    }
}

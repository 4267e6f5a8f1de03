using System.Diagnostics;
using System.Net;
using Npgsql;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Rehearsals;

/// <summary>Restore rehearsals against real servers: a good backup proven, a damaged one caught, the live instance untouched.</summary>
[Collection("rehearsal")]
public sealed class RehearsalTests(RehearsalBroker broker)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task A_good_postgresql_backup_passes_every_check_while_a_client_keeps_writing_to_the_untouched_live_instance()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "rh-pg-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var binding = await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan);
        var uri = binding.GetProperty("uri").GetString()!;
        var token = binding.GetProperty("steward_api").GetProperty("token").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL); CREATE INDEX orders_item ON orders (item); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 20000) g; CREATE TABLE log (id serial PRIMARY KEY, at timestamptz DEFAULT now())");
        var backup = (await osb.BackupAsync(id)).Text("id");
        var before = (await osb.ApiAsync($"/instances/{id}")).Body;
        var livePort = before.GetProperty("port").GetInt32();
        var livePid = before.GetProperty("process").GetProperty("pid").GetInt32();

        // A client writes to the live instance for the whole rehearsal; every write must succeed.
        using var stop = new CancellationTokenSource();
        var written = 0;
        var writer = Task.Run(async () =>
        {
            await using var conn = await Lifecycle.PostgreSqlLifecycleTests.OpenAsync(uri);
            while (!stop.IsCancellationRequested)
            {
                await using var insert = new NpgsqlCommand("INSERT INTO log DEFAULT VALUES", conn);
                await insert.ExecuteNonQueryAsync();
                written++;
                await Task.Delay(5);
            }
        });

        // The check holds the sandbox for a few seconds, so the test can see it from outside meanwhile.
        var check = "SELECT count(*) = 20000 FROM orders;\nSELECT count(*) > 0 FROM (SELECT pg_sleep(3)) s;";
        var started = await Rehearse.StartAsync(server, id, new { check }, token);
        started.Status.ShouldBe(HttpStatusCode.Accepted, "an instance token may rehearse its own instance: " + started);
        var rehearsal = started.Str("id")!;

        var checking = await Rehearse.WaitAsync(osb, rehearsal, r => r.GetProperty("state").GetString() != "running" || (r.GetProperty("step").GetString() ?? string.Empty).StartsWith("checking", StringComparison.Ordinal));
        checking.GetProperty("state").GetString().ShouldBe("running", checking.GetRawText() + "\n" + server.Log);
        var sandboxPort = checking.GetProperty("port").GetInt32();
        sandboxPort.ShouldNotBe(livePort);
        var sandbox = Rehearse.SandboxDirectory(server, rehearsal);
        Directory.Exists(Path.Combine(sandbox, "data", "base")).ShouldBeTrue("the sandbox restores into its own directory");
        var refused = await Should.ThrowAsync<PostgresException>(async () =>
        {
            await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1", Port = sandboxPort, Username = binding.GetProperty("username").GetString(), Password = binding.GetProperty("password").GetString(), Database = "app", Pooling = false,
            }.ConnectionString);
            await conn.OpenAsync();
        });
        refused.SqlState.ShouldBe("28000", "the instance's credentials do not open the sandbox: " + refused.Message);
        var postmaster = Processes.Under(sandbox).First(p => Processes.CommandLine(p).Contains("postgres -D", StringComparison.Ordinal) && !Processes.CommandLine(p).Contains("steward-shim", StringComparison.Ordinal));
        var stat = File.ReadAllText($"/proc/{postmaster}/stat");
        stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16].ShouldBe("10", $"the sandbox's server runs at nice 10: {Processes.CommandLine(postmaster)}: {stat}");

        // Its own cgroup, with the configured limits, holding the server and every process it forked.
        IReadOnlyDictionary<string, string> groups = new Dictionary<string, string>();
        if (SandboxCgroupProbe.Available)
        {
            groups = SandboxCgroupProbe.Groups(postmaster);
            var expected = SandboxCgroupProbe.Unified
                ? new (string Group, string File, string Value)[] { ("unified", "cpu.weight", RehearsalBroker.CpuWeight.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("unified", "memory.max", (RehearsalBroker.MemoryMb * 1024L * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)) }
                : [("cpu", "cpu.shares", (RehearsalBroker.CpuWeight * 1024 / 100).ToString(System.Globalization.CultureInfo.InvariantCulture)), ("memory", "memory.limit_in_bytes", (RehearsalBroker.MemoryMb * 1024L * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture))];
            foreach (var (group, file, value) in expected)
            {
                groups[group].EndsWith("/rehearsal-" + rehearsal, StringComparison.Ordinal).ShouldBeTrue($"{group}: {string.Join(", ", groups)}");
                SandboxCgroupProbe.Read(groups[group], file).ShouldBe(value, $"{groups[group]}/{file}");
            }

            // The server's processes: the postmaster and its backends (the checking tools are clients, outside).
            var server_ = Processes.Under(sandbox).Where(p => Processes.CommandLine(p) is var c && (c.StartsWith("postgres:", StringComparison.Ordinal) || c.Contains("postgres -D", StringComparison.Ordinal)) && !c.Contains("steward-shim", StringComparison.Ordinal)).ToList();
            server_.Count.ShouldBeGreaterThan(1, "the postmaster and its backends");
            foreach (var pid in server_)
            {
                SandboxCgroupProbe.Groups(pid)[expected[0].Group].ShouldBe(groups[expected[0].Group], $"{pid} {Processes.CommandLine(pid)} is in the sandbox's group");
            }
        }

        var done = await Rehearse.WaitAsync(osb, rehearsal);
        await stop.CancelAsync();
        await writer;
        done.GetProperty("state").GetString().ShouldBe("passed", done.GetRawText() + "\n" + server.Log);
        done.GetProperty("backup_id").GetString().ShouldBe(backup, "the newest backup by default");
        foreach (var name in new[] { "restore", "pg_amcheck", "row counts", "developer check", "data checksums" })
        {
            Rehearse.Check(done, name).GetProperty("result").GetString().ShouldBe("passed", name + ": " + done.GetRawText());
        }

        Rehearse.Check(done, "pg_amcheck").GetProperty("evidence").GetString()!.ShouldContain("--heapallindexed");
        Rehearse.Check(done, "row counts").GetProperty("details").GetProperty("app.public.orders").GetProperty("restored").GetInt64().ShouldBe(20000);
        done.GetProperty("restore_seconds").GetDouble().ShouldBeGreaterThan(0);
        Directory.Exists(sandbox).ShouldBeFalse("the sandbox is removed afterwards");
        Processes.Under(sandbox).ShouldBeEmpty();
        var cgroup = done.GetProperty("measurements").GetProperty("cgroup").GetString()!;
        if (SandboxCgroupProbe.Available)
        {
            cgroup.ShouldContain(SandboxCgroupProbe.Unified ? $"cpu.weight {RehearsalBroker.CpuWeight}" : $"cpu.shares {RehearsalBroker.CpuWeight * 1024 / 100}");
            groups.Values.ShouldAllBe(dir => !Directory.Exists(dir), "the sandbox's cgroup is removed with it");
        }
        else
        {
            cgroup.ShouldStartWith("none: no writable cgroup hierarchy");
        }

        // The live instance: the same server process on the same port, and every write of the client is there.
        written.ShouldBeGreaterThan(20);
        var after = (await osb.ApiAsync($"/instances/{id}")).Body;
        after.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(livePid);
        after.GetProperty("port").GetInt32().ShouldBe(livePort);
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM log")).ShouldBe(written.ToString(System.Globalization.CultureInfo.InvariantCulture));
        after.GetProperty("rehearsal").GetProperty("last_proven_backup_id").GetString().ShouldBe(backup);
        after.GetProperty("rehearsal").GetProperty("last_proven_restorable").GetDateTimeOffset().ShouldBe(done.GetProperty("finished_at").GetDateTimeOffset());
        (await Rehearse.ScrapeAsync(server)).Value("steward_rehearsal_last_success", ("instance_id", id)).ShouldBe(1);
    }

    [Fact]
    public async Task A_redis_backup_whose_stored_object_is_damaged_fails_its_rehearsal_with_an_incident_naming_the_instance()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "rh-redis-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        for (var i = 0; i < 50; i++)
        {
            await RedisCli.RunAsync(credentials, "SET", $"user:{i}", new string('x', 2000));
        }

        var good = await osb.BackupAsync(id);

        // A good one first: the file check, the key count and the developer's patterns.
        var passed = await Rehearse.WaitAsync(osb, (await Rehearse.StartAsync(server, id, new { check = "# users\nuser:* = 50\nsession:* = 0\n" })).Str("id")!);
        passed.GetProperty("state").GetString().ShouldBe("passed", passed.GetRawText() + "\n" + server.Log);
        Rehearse.Check(passed, "redis-check-rdb").GetProperty("result").GetString().ShouldBe("passed");
        Rehearse.Check(passed, "key counts").GetProperty("evidence").GetString()!.ShouldContain("50 keys");
        Rehearse.Check(passed, "developer check").GetProperty("evidence").GetString()!.ShouldContain("user:*: 50 keys");

        // A check file that does not parse is refused before anything starts.
        var malformed = await Rehearse.StartAsync(server, id, new { check = "user:* about 50" });
        malformed.Status.ShouldBe(HttpStatusCode.BadRequest);
        malformed.ToString().ShouldContain("PATTERN OP COUNT");
        (await Rehearse.StartAsync(server, id, new { backup_id = "bk-nope" })).Status.ShouldBe(HttpStatusCode.NotFound);
        (await Rehearse.StartAsync(server, id, new { backup_id = good.Text("id"), to_time = "2026-01-01T00:00:00Z" })).Status.ShouldBe(HttpStatusCode.BadRequest);

        var file = Path.Combine(server.DataDir, "backups", good.Text("key"));
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(file, bytes);

        var failed = await Rehearse.WaitAsync(osb, (await Rehearse.StartAsync(server, id, new { backup_id = good.Text("id") })).Str("id")!);
        failed.GetProperty("state").GetString().ShouldBe("failed", failed.GetRawText());
        failed.GetProperty("summary").GetString()!.ShouldStartWith($"backup {good.Text("id")} is not restorable:");
        failed.GetProperty("summary").GetString()!.ShouldContain("integrity", Case.Insensitive);
        var incident = (await osb.ApiAsync($"/incidents/{failed.GetProperty("incident_id").GetString()}")).Body;
        incident.GetProperty("instance_id").GetString().ShouldBe(id);
        incident.GetProperty("class").GetString().ShouldBe("backup-not-restorable");
        incident.GetProperty("state").GetString().ShouldBe("open");
        incident.GetProperty("summary").GetString()!.ShouldContain($"instance {id}: backup {good.Text("id")} is not restorable");
        (await Rehearse.ScrapeAsync(server)).Value("steward_rehearsal_last_success", ("instance_id", id)).ShouldBe(0);
        var details = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("rehearsal");
        details.GetProperty("last_proven_restorable").GetDateTimeOffset().ShouldBe(passed.GetProperty("finished_at").GetDateTimeOffset(), "still the earlier proof");
        details.GetProperty("latest").GetProperty("state").GetString().ShouldBe("failed");
        Directory.Exists(Rehearse.SandboxDirectory(server, failed.GetProperty("id").GetString()!)).ShouldBeFalse();
        (await RedisCli.RunAsync(credentials, "DBSIZE")).Trim().ShouldBe("50", "the live instance is untouched");
        var list = await osb.ApiAsync($"/instances/{id}/rehearsals");
        list.Body.GetProperty("rehearsals").GetArrayLength().ShouldBe(2);
    }

    [Fact]
    public async Task Another_instances_token_cannot_rehearse_or_read_this_instances_rehearsals()
    {
        var server = broker.Server;
        var osb = server.Client;
        var mine = "rh-mine-" + Guid.NewGuid().ToString("N")[..6];
        var theirs = "rh-theirs-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.ProvisionReadyAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await osb.BindReadyAsync(theirs, "b-" + theirs, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        (await Rehearse.StartAsync(server, mine, null, token)).Status.ShouldBe(HttpStatusCode.NotFound);
        var none = await Rehearse.StartAsync(server, mine);
        none.Status.ShouldBe(HttpStatusCode.BadRequest);
        none.ToString().ShouldContain("no succeeded backup");
        (await osb.ApiAsync($"/instances/{mine}/rehearsals")).Body.GetProperty("rehearsals").GetArrayLength().ShouldBe(0, "a refused rehearsal leaves no record");
    }
}

using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;

namespace Steward.Server.Tests.Supervision;

/// <summary>Real processes, real failures: what the supervisor detects, how it classifies, what it does.</summary>
[Collection("supervised")]
public sealed partial class SupervisionTests(SupervisedBrokerFixture broker)
{
    /// <summary>How long each server of the crash-loop test lives: the injected failure, not a wait for a condition.</summary>
    private static readonly TimeSpan LifeBeforeDeath = TimeSpan.FromSeconds(1);

    private OsbClient Osb => broker.Client;

    [Fact]
    public async Task A_SIGKILLed_server_is_restarted_within_budget_and_the_incident_says_killed_by_signal_9()
    {
        var id = "kill-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        var pid = await PidAsync(id);

        Processes.Kill(pid, 9);
        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "resolved");
        incident.GetProperty("class").GetString().ShouldBe("killed-by-signal");
        incident.GetProperty("restarts").GetInt32().ShouldBe(1);
        incident.GetProperty("evidence").GetProperty("signal").GetInt32().ShouldBe(9);
        Kinds(incident).ShouldBe(["detected", "classified", "stopped", "restart-scheduled", "restarted", "healthy", "resolved"]);

        var newPid = await PidAsync(id);
        newPid.ShouldNotBe(pid);
        await using var conn = await RedisLifecycleTests.ConnectAsync(credentials);
        (await conn.ExecuteAsync(["PING"], default)).AsText().ShouldBe("PONG");
        await DeleteAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_configuration_error_is_classified_from_the_server_log_not_restarted_in_a_loop_and_preserved()
    {
        var id = "conf-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await WaitHealthyAsync(id);
        var instance = await InstanceAsync(id);
        var directory = instance.GetProperty("directory").GetString()!;
        await File.AppendAllTextAsync(Path.Combine(directory, "config", "postgresql.conf"), "shared_buffers = 'banana'\n");
        Processes.Kill(instance.GetProperty("process").GetProperty("pid").GetInt32(), 9);

        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "quarantined");
        incident.GetProperty("class").GetString().ShouldBe("config-error");
        incident.GetProperty("restarts").GetInt32().ShouldBe(1, "one restart after the kill; none after the configuration error");
        var evidence = incident.GetProperty("evidence");
        evidence.GetProperty("class_evidence").GetString()!.ShouldContain("invalid value for parameter \"shared_buffers\": \"banana\"");
        evidence.GetProperty("log_tail").EnumerateArray().Select(l => l.GetString()).ShouldContain(l => l!.Contains("banana", StringComparison.Ordinal));
        evidence.GetProperty("config_changes_since_last_healthy_start").EnumerateArray().Select(l => l.GetString()).ShouldContain("postgresql.conf: + shared_buffers = 'banana'");
        incident.GetProperty("preserved_path").GetString().ShouldBe(directory);

        // Fenced and kept: nothing runs, nothing is restarted later, the files are as they were.
        for (var look = 0; look < 15; look++)
        {
            Processes.Under(directory).ShouldBeEmpty("a quarantined instance is never restarted");
            await Task.Delay(100);
        }

        File.Exists(Path.Combine(directory, "data", "PG_VERSION")).ShouldBeTrue();
        File.ReadAllText(Path.Combine(directory, "config", "postgresql.conf")).ShouldContain("banana");
        File.Exists(Path.Combine(directory, "QUARANTINED")).ShouldBeTrue();
        (await IncidentsAsync(id)).Single().GetProperty("restarts").GetInt32().ShouldBe(1);

        // The platform sees it: health failed, not usable; it can still delete the instance.
        (await Osb.GetInstanceAsync(id)).Body.GetProperty("metadata").GetProperty("attributes").GetProperty("health").GetString().ShouldBe("failed");
        var last = await Osb.LastOperationAsync(id);
        last.Body.GetProperty("instance_usable").GetBoolean().ShouldBeFalse();
        (await Osb.UpdateAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge)).Error.ShouldBe("ConcurrencyError");
        await DeleteAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        Directory.Exists(directory).ShouldBeFalse();
    }

    [Fact]
    public async Task A_server_that_dies_a_second_after_every_start_is_caught_as_a_crash_loop_within_the_budget()
    {
        var id = "loop-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var directory = (await InstanceAsync(id)).GetProperty("directory").GetString()!;
        var pidFile = Path.Combine(directory, "run", "server.pid");

        // Every server that starts is killed about a second later, like a daemon that aborts after initializing.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var killer = Task.Run(async () =>
        {
            var killed = new HashSet<int>();
            while (!stop.IsCancellationRequested)
            {
                if (int.TryParse((File.Exists(pidFile) ? await File.ReadAllTextAsync(pidFile) : string.Empty).Trim(), out var pid) && killed.Add(pid))
                {
                    await Task.Delay(LifeBeforeDeath);
                    Processes.Kill(pid, 9);
                }

                await Task.Delay(50);
            }
        });

        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "quarantined", seconds: 40);
        await stop.CancelAsync();
        await killer;
        incident.GetProperty("summary").GetString()!.ShouldContain("crash loop");
        incident.GetProperty("restarts").GetInt32().ShouldBe(3, "the budget is 3 restarts a minute; being up for a second between deaths does not reset it");
        incident.GetProperty("class").GetString().ShouldBe("killed-by-signal", incident.GetRawText());
        Kinds(incident).Count(k => k == "restarted").ShouldBe(3);
        Processes.Under(directory).ShouldBeEmpty();
        (await IncidentsAsync(id)).Count.ShouldBe(1, "the quick deaths belong to one incident");
        await DeleteAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_corrupted_data_directory_is_data_corruption_preserved_and_never_restarted()
    {
        var id = "corrupt-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var instance = await InstanceAsync(id);
        var directory = instance.GetProperty("directory").GetString()!;
        File.Delete(Path.Combine(directory, "data", "global", "pg_control"));
        Processes.Kill(instance.GetProperty("process").GetProperty("pid").GetInt32(), 9);

        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "quarantined");
        incident.GetProperty("class").GetString().ShouldBe("data-corruption");
        incident.GetProperty("restarts").GetInt32().ShouldBe(0);
        incident.GetProperty("evidence").GetProperty("class_evidence").GetString()!.ShouldContain("pg_control");
        Kinds(incident).ShouldNotContain("restarted");
        Processes.Under(directory).ShouldBeEmpty();
        File.Exists(Path.Combine(directory, "data", "PG_VERSION")).ShouldBeTrue("the damaged data directory is kept for inspection");
        await DeleteAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    [Fact]
    public async Task An_instance_token_sees_its_own_instance_and_incidents_and_nothing_of_another()
    {
        var mine = "mine-" + Guid.NewGuid().ToString("N")[..8];
        var other = "other-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await Osb.ProvisionReadyAsync(other, Catalogs.Redis, Catalogs.RedisStandalone);
        var api = (await Osb.BindReadyAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api");
        api.GetProperty("url").GetString().ShouldEndWith($"/api/v1/instances/{mine}");
        var token = api.GetProperty("token").GetString()!;
        Processes.Kill(await PidAsync(other), 9);
        await WaitForIncidentAsync(other, _ => true);

        async Task<Reply> AsOwner(string path, string? bearer = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1" + path);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer ?? token);
            using var response = await broker.Server.Http.SendAsync(request);
            return await Reply.ReadAsync(response);
        }

        (await AsOwner($"/instances/{mine}")).Status.ShouldBe(HttpStatusCode.OK);
        (await AsOwner($"/instances/{other}")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner("/instances")).Body.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ShouldBe([mine]);
        (await AsOwner($"/incidents?instance={other}")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner("/incidents")).Body.GetProperty("incidents").EnumerateArray().ShouldAllBe(i => i.GetProperty("instance_id").GetString() == mine);
        var otherIncident = (await IncidentsAsync(other)).First().GetProperty("id").GetString();
        (await AsOwner($"/incidents/{otherIncident}")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner("/health")).Body.GetProperty("instances").GetArrayLength().ShouldBe(1);
        (await AsOwner("/instances", "stw_not-a-token")).Status.ShouldBe(HttpStatusCode.Unauthorized);

        // The token does not open the OSB API, and it dies with its binding.
        using (var osb = new HttpRequestMessage(HttpMethod.Get, "/v2/catalog"))
        {
            osb.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            osb.Headers.Add("X-Broker-API-Version", "2.17");
            (await broker.Server.Http.SendAsync(osb)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        (await Osb.UnbindAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).Status.ShouldBe(HttpStatusCode.OK);
        (await AsOwner($"/instances/{mine}")).Status.ShouldBe(HttpStatusCode.Unauthorized);
        await DeleteAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await DeleteAsync(other, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task Health_is_checked_at_the_protocol_level_and_shown_per_instance()
    {
        var id = "health-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await WaitHealthyAsync(id);
        var health = (await Osb.ApiAsync("/health")).Body.GetProperty("instances").EnumerateArray().Single(i => i.GetProperty("id").GetString() == id).GetProperty("health");
        health.GetProperty("detail").GetString().ShouldStartWith("answered in");
        (await Osb.GetInstanceAsync(id)).Body.GetProperty("metadata").GetProperty("attributes").GetProperty("health").GetString().ShouldBe("healthy");

        // The check commits a heartbeat on the primary while others write, and not at every check of a primary
        // nobody writes to (docs/supervision.md#what-a-check-proves).
        var reader = await Osb.BindReadyAsync(id, "r-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone, new { read_only = true });
        var writer = (await Osb.BindReadyAsync(id, "w-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        await using var conn = await PostgreSqlLifecycleTests.OpenAsync(reader.GetProperty("uri").GetString()!.Replace("/app", "/postgres", StringComparison.Ordinal));
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT at FROM steward_heartbeat WHERE id = 1", conn);
        async Task<DateTime> HeartbeatAsync() => (DateTime)(await cmd.ExecuteScalarAsync())!;

        // Settled: the bindings' own transactions got their heartbeat; then ten checks (200 ms apart) commit nothing.
        var settled = System.Diagnostics.Stopwatch.StartNew();
        var quiet = await HeartbeatAsync();
        for (var stable = System.Diagnostics.Stopwatch.StartNew(); stable.Elapsed < TimeSpan.FromSeconds(2); await Task.Delay(100))
        {
            var at = await HeartbeatAsync();
            if (at != quiet)
            {
                (quiet, stable) = (at, System.Diagnostics.Stopwatch.StartNew());
            }

            settled.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the heartbeat kept being committed on a primary nobody writes to");
        }

        // A write: the next check commits the heartbeat again, and so does every check while writes go on.
        for (var i = 0; i < 2; i++)
        {
            var before = await HeartbeatAsync();
            await Steward.Server.Tests.Backups.Sql.ExecAsync(writer, $"CREATE TABLE IF NOT EXISTS hb (v int); INSERT INTO hb VALUES ({i})");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (await HeartbeatAsync() <= before)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), "a write was not followed by a heartbeat commit");
                await Task.Delay(50);
            }
        }

        await DeleteAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    [Fact]
    public async Task A_PostgreSQL_primary_that_turned_read_only_fails_its_checks_even_between_heartbeat_commits()
    {
        var id = "ro-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await WaitHealthyAsync(id);
        var pid = await PidAsync(id);

        // What an operator's ALTER SYSTEM would do: every new session refuses writes. The postmaster's working
        // directory is the data directory.
        var autoConf = Path.Combine(new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(false)!.FullName, "postgresql.auto.conf");
        await File.AppendAllTextAsync(autoConf, "default_transaction_read_only = on\n");
        Processes.Kill(pid, 1); // SIGHUP: reload
        var incident = await WaitForIncidentAsync(id, i => i.GetRawText().Contains("read-only", StringComparison.Ordinal));
        incident.GetRawText().ShouldContain("default_transaction_read_only");
        await DeleteAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    private async Task<JsonElement> InstanceAsync(string id) => (await Osb.ApiAsync($"/instances/{id}")).Body;

    private async Task<int> PidAsync(string id)
    {
        for (var i = 0; i < 100; i++)
        {
            var process = (await InstanceAsync(id)).GetProperty("process");
            if (process.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number)
            {
                return pid.GetInt32();
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"instance {id} has no running process");
    }

    private async Task WaitHealthyAsync(string id)
    {
        for (var i = 0; i < 100; i++)
        {
            if ((await InstanceAsync(id)).GetProperty("health").GetProperty("status").GetString() == "healthy")
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"instance {id} never became healthy");
    }

    private async Task<IReadOnlyList<JsonElement>> IncidentsAsync(string id) =>
        (await Osb.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray().ToList();

    private async Task<JsonElement> WaitForIncidentAsync(string id, Func<JsonElement, bool> match, int seconds = 30)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var found = (await IncidentsAsync(id)).FirstOrDefault(match);
            if (found.ValueKind == JsonValueKind.Object)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no matching incident for {id} within {seconds} s: {string.Join("\n", (await IncidentsAsync(id)).Select(i => i.GetRawText()))}\n{broker.Server.Log}");
    }

    private static List<string> Kinds(JsonElement incident) =>
        incident.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()!).ToList();

    private async Task DeleteAsync(string id, string service, string plan)
    {
        (await Osb.DeprovisionAsync(id, service, plan)).Status.ShouldBe(HttpStatusCode.Accepted);
        (await Osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);
    }
}

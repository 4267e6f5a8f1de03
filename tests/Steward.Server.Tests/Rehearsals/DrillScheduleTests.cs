using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Rehearsals;

/// <summary>
/// Recurring rehearsal drills through the schedules, against a real broker with the real clock: bad schedules are
/// refused and store nothing; a seconds-level drill fires on time; a drill of a damaged backup is an incident that the
/// next passing drill resolves; the schedule survives a kill -9 and leaves no sandbox behind. Owns its broker.
/// </summary>
public sealed class DrillScheduleTests
{
    [Fact]
    public async Task A_seconds_level_drill_fires_fails_on_a_damaged_backup_with_an_incident_resolved_by_the_next_drill_and_survives_kill_9()
    {
        await using var server = await StewardServer.StartAsync();
        var osb = server.Client;
        var id = "drill-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        var damaged = await osb.BackupAsync(id);
        var file = Path.Combine(server.DataDir, "backups", damaged.Text("key"));
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(file, bytes);

        (string Why, object Body, string? Token, string Error)[] refused =
        [
            ("malformed cron", new { cron = "61 * * * * *" }, null, "is malformed"),
            ("cron and interval", new { cron = "*/5 * * * * *", every = "1h" }, null, "exactly one of 'cron'"),
            ("time zone of an interval", new { every = "1h", time_zone = "Europe/Berlin" }, null, "'time_zone' applies to a cron expression"),
            ("a backup kind", new { every = "1h", kind = "rdb" }, null, "unknown field 'kind'; a rehearsal schedule has: cron, time_zone, every"),
            ("retention", new { every = "1h", keep_last = 3 }, null, "unknown field 'keep_last'"),
            ("an instance token below the plan's minimum", new { every = "5m" }, token, "the instance's plan allows an instance token 1h at the shortest"),
        ];
        foreach (var (why, body, as_, error) in refused)
        {
            var reply = await PutAsync(server, id, body, as_);
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, $"{why}: {reply}");
            reply.Str("description")!.ShouldContain(error, Case.Sensitive, why);
        }

        (await osb.ApiAsync($"/instances/{id}/rehearsal-schedule")).Status.ShouldBe(HttpStatusCode.NotFound, "nothing was stored");
        (await osb.ApiAsync($"/instances/{id}/rehearsals")).Body.GetProperty("rehearsals").GetArrayLength().ShouldBe(0, "nothing was started");

        var set = await PutAsync(server, id, new { cron = "*/5 * * * * *" });
        set.Status.ShouldBe(HttpStatusCode.OK, set.ToString());

        // The first drill rehearses the damaged backup: failed, an open backup-not-restorable incident on the schedule.
        var failing = await WaitForAsync(server, id, s => s.Str("last_result") == "failed" && s.Str("open_incident") is not null);
        var incidentId = failing.Str("open_incident")!;
        var incident = await osb.ApiAsync($"/incidents/{incidentId}");
        incident.Str("class").ShouldBe("backup-not-restorable");
        incident.Str("state").ShouldBe("open");
        incident.Body.GetProperty("evidence").GetProperty("backup_id").GetString().ShouldBe(damaged.Text("id"));
        var first = await Rehearse.GetAsync(osb, failing.Str("last_rehearsal_id")!);
        first.GetProperty("requested_by").GetString().ShouldBe("schedule");
        var started = first.GetProperty("started_at").GetDateTimeOffset();
        var occurrence = new DateTimeOffset(started.Ticks - (started.Ticks % TimeSpan.FromSeconds(5).Ticks), TimeSpan.Zero);
        (started - occurrence).ShouldBeLessThan(TimeSpan.FromSeconds(3), $"the drill started at {started:O}, due at {occurrence:O}");

        // A new good backup: the next drill rehearses it, passes and resolves the incident.
        var good = (await osb.BackupAsync(id)).Text("id");
        var passing = await WaitForAsync(server, id, s => s.Str("last_result") == "passed");
        (await Rehearse.GetAsync(osb, passing.Str("last_rehearsal_id")!)).GetProperty("backup_id").GetString().ShouldBe(good);
        passing.Str("open_incident").ShouldBeNull();
        var resolved = await osb.ApiAsync($"/incidents/{incidentId}");
        resolved.Str("state").ShouldBe("resolved");
        resolved.Str("summary")!.ShouldContain($"backup {damaged.Text("id")} itself stays unproven");
        var details = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("rehearsal");
        details.GetProperty("schedule").GetProperty("cron").GetString().ShouldBe("*/5 * * * * *");
        details.GetProperty("schedule").GetProperty("next_run_at").GetDateTimeOffset().ShouldBeGreaterThan(DateTimeOffset.UtcNow - TimeSpan.FromSeconds(6));
        details.GetProperty("last_proven_backup_id").GetString().ShouldBe(good);

        // kill -9: the schedule is durable, drills go on after the restart, and no sandbox outlives its rehearsal.
        await server.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        await server.StartProcessAsync();
        (await osb.ApiAsync($"/instances/{id}/rehearsal-schedule")).Str("cron").ShouldBe("*/5 * * * * *");
        await WaitForAsync(server, id, s => s.Str("last_result") == "passed" && s.Body.GetProperty("last_run_at").GetDateTimeOffset() > killedAt);
        (await PutAsync(server, id, new { every = "1d" })).Status.ShouldBe(HttpStatusCode.OK, "no further drill in this test");
        var all = await WaitForListAsync(osb, id);
        all.Where(r => r.GetProperty("requested_by").GetString() == "schedule").Count().ShouldBeGreaterThanOrEqualTo(3);
        foreach (var r in all)
        {
            Directory.Exists(Rehearse.SandboxDirectory(server, r.GetProperty("id").GetString()!)).ShouldBeFalse($"{r.GetRawText()} left its sandbox");
        }

        (await osb.SendAsync(HttpMethod.Delete, $"/api/v1/instances/{id}/rehearsal-schedule", null, version: null)).Status.ShouldBe(HttpStatusCode.OK);
        (await osb.ApiAsync($"/instances/{id}/rehearsal-schedule")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_plan_default_drill_runs_for_every_instance_of_the_plan_an_instance_schedule_overrides_it_and_deleting_that_brings_it_back()
    {
        // The operator's default for Redis standalone: a drill every 3 seconds (a test's pace; 7d or a weekly cron in use).
        await using var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_REHEARSAL_SCHEDULE_REDIS_STANDALONE"] = "*/3 * * * * *" });
        var osb = server.Client;
        var id = "drill-plan-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var good = (await osb.BackupAsync(id)).Text("id");

        // Nobody set a schedule for the instance: the plan's default drills it.
        var passing = await WaitForAsync(server, id, s => s.Str("last_result") == "passed", mayBeAbsent: true);
        passing.Str("source").ShouldBe("plan");
        passing.Str("cron").ShouldBe("*/3 * * * * *");
        (await Rehearse.GetAsync(osb, passing.Str("last_rehearsal_id")!)).GetProperty("backup_id").GetString().ShouldBe(good);
        (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("rehearsal").GetProperty("last_proven_backup_id").GetString().ShouldBe(good);

        // The instance's own schedule wins; deleting it brings the plan's default back.
        var own = await PutAsync(server, id, new { every = "1d" });
        own.Status.ShouldBe(HttpStatusCode.OK, own.ToString());
        own.Str("source").ShouldBe("instance");
        (await osb.SendAsync(HttpMethod.Delete, $"/api/v1/instances/{id}/rehearsal-schedule", null, version: null)).Status.ShouldBe(HttpStatusCode.OK);
        var back = await WaitForAsync(server, id, s => s.Str("source") == "plan", mayBeAbsent: true);
        back.Str("cron").ShouldBe("*/3 * * * * *");

        // A kill -9 keeps the default's record, and drills go on after the restart.
        await server.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        await server.StartProcessAsync();
        await WaitForAsync(server, id, s => s.Str("last_result") == "passed" && s.Body.GetProperty("last_run_at").GetDateTimeOffset() > killedAt);
        foreach (var r in await WaitForListAsync(osb, id))
        {
            Directory.Exists(Rehearse.SandboxDirectory(server, r.GetProperty("id").GetString()!)).ShouldBeFalse($"{r.GetRawText()} left its sandbox");
        }

        await osb.DeprovisionGoneAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Theory]
    [InlineData("STEWARD_REHEARSAL_SCHEDULE", "61 * * * *")]
    [InlineData("STEWARD_REHEARSAL_SCHEDULE_POSTGRESQL_STANDALONE", "7 days")]
    public void A_malformed_plan_default_drill_is_refused_at_start_naming_the_setting(string name, string value)
    {
        var ex = Should.Throw<ArgumentException>(() => Steward.Server.Backups.Schedules.BackupScheduleOptions.From(new Dictionary<string, string> { [name] = value }));
        ex.Message.ShouldStartWith($"{name}='{value}'");
    }

    [Fact]
    public void Off_gives_a_plan_no_default_drill_while_the_others_keep_theirs()
    {
        var options = Steward.Server.Backups.Schedules.BackupScheduleOptions.From(new Dictionary<string, string>
        {
            ["STEWARD_REHEARSAL_SCHEDULE"] = "7d",
            ["STEWARD_REHEARSAL_SCHEDULE_REDIS_STANDALONE"] = "off",
        });
        var now = DateTimeOffset.UnixEpoch;
        options.DrillDefault("redis", "standalone", "r1", now).ShouldBeNull();
        var pg = options.DrillDefault("postgresql", "standalone", "p1", now).ShouldNotBeNull();
        (pg.Every, pg.Source, pg.InstanceId).ShouldBe((TimeSpan.FromDays(7), "plan", "p1"));
    }

    private static async Task<Reply> PutAsync(StewardServer server, string id, object body, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/instances/{id}/rehearsal-schedule") { Content = BackupApi.Json(body) };
        request.Headers.Authorization = token is null
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")))
            : new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    /// <summary>
    /// Polls the drill schedule until <paramref name="done"/>, checking on every look that no two rehearsals of the
    /// instance run at once; with <paramref name="mayBeAbsent"/>, a schedule not there yet (a plan default is given at
    /// the scheduler's next tick) is waited for too.
    /// </summary>
    private static async Task<Reply> WaitForAsync(StewardServer server, string id, Func<Reply, bool> done, bool mayBeAbsent = false)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var schedule = await server.Client.ApiAsync($"/instances/{id}/rehearsal-schedule");
            if (mayBeAbsent && schedule.Status == HttpStatusCode.NotFound && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
                continue;
            }

            schedule.Status.ShouldBe(HttpStatusCode.OK, schedule.ToString());
            if (done(schedule))
            {
                return schedule;
            }

            var running = (await server.Client.ApiAsync($"/instances/{id}/rehearsals")).Body.GetProperty("rehearsals").EnumerateArray().Count(r => r.GetProperty("state").GetString() == "running");
            running.ShouldBeLessThanOrEqualTo(1, "never two rehearsals of one instance at once");
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(90), $"schedule: {schedule}\n{server.Log}");
            await Task.Delay(200);
        }
    }

    /// <summary>The instance's rehearsals once none is running.</summary>
    private static async Task<List<JsonElement>> WaitForListAsync(OsbClient osb, string id)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var list = (await osb.ApiAsync($"/instances/{id}/rehearsals")).Body.GetProperty("rehearsals").EnumerateArray().ToList();
            if (list.All(r => r.GetProperty("state").GetString() != "running"))
            {
                return list;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60));
            await Task.Delay(200);
        }
    }
}

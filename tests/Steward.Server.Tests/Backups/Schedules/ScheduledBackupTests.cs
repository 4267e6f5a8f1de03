using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Steward.Backup.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups.Schedules;

/// <summary>
/// Scheduled backups against real brokers with the real clock: a seconds-level cron fires on time, retention
/// keeps what it says, the schedule survives a kill -9; bad input is refused and changes nothing; a deletion
/// interrupted by a storage outage and a kill -9 finishes at the next start; a failing scheduled backup is an
/// incident that a later retry resolves. Each test owns its broker.
/// </summary>
public sealed class ScheduledBackupTests
{
    /// <summary>The clock the real broker process runs on: these tests check what it schedules against it.</summary>
    private static readonly TimeProvider BrokerClock = TimeProvider.System;

    [Fact]
    public async Task A_seconds_level_cron_fires_on_time_keeps_the_last_two_and_the_pinned_backup_and_survives_kill_9()
    {
        await using var server = await StewardServer.StartAsync();
        var osb = server.Client;
        var id = "sched-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var manual = (await osb.BackupAsync(id)).Text("id");
        (await osb.SendAsync(HttpMethod.Put, $"/api/v1/backups/{manual}/pin", new { }, version: null)).Status.ShouldBe(HttpStatusCode.OK);

        var set = await osb.SendAsync(HttpMethod.Put, $"/api/v1/instances/{id}/backup-schedule", new { cron = "*/5 * * * * *", keep_last = 2 }, version: null);
        set.Status.ShouldBe(HttpStatusCode.OK, set.ToString());
        set.Str("source").ShouldBe("instance");

        var scheduled = await WaitForAsync(async () =>
        {
            var list = await ScheduledAsync(osb, id, manual);
            return list.Count(b => b.GetProperty("state").GetString() == "succeeded") >= 2 && (await ScheduleAsync(osb, id)).Str("last_result") == "succeeded" ? list : null;
        }, TimeSpan.FromSeconds(60));

        foreach (var b in scheduled)
        {
            var started = b.GetProperty("started_at").GetDateTimeOffset();
            var occurrence = new DateTimeOffset(started.Ticks - (started.Ticks % TimeSpan.FromSeconds(5).Ticks), TimeSpan.Zero);
            (started - occurrence).ShouldBeLessThan(TimeSpan.FromSeconds(3), $"backup {b.GetProperty("id")} started at {started:O}, due at {occurrence:O}");
        }

        var schedule = await ScheduleAsync(osb, id);
        schedule.Body.GetProperty("next_run_at").GetDateTimeOffset().ShouldBeGreaterThan(BrokerClock.GetUtcNow() - TimeSpan.FromSeconds(1));
        schedule.Body.GetProperty("backup_overdue").GetBoolean().ShouldBeFalse();
        var details = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("backup");
        details.GetProperty("schedule").GetProperty("cron").GetString().ShouldBe("*/5 * * * * *");
        details.GetProperty("last_successful_backup_age_seconds").GetDouble().ShouldBeLessThan(30);
        details.GetProperty("backup_overdue").GetBoolean().ShouldBeFalse();

        // Retention (keep-last 2) runs after each success: two scheduled backups and the pinned manual one remain.
        await WaitUntilAsync(() => Task.FromResult(server.Log.Contains($"Retention of instance {id}: deleting backup", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        // A run may finish between two looks; retention follows it at once, so the listing settles on three.
        var all = await WaitForAsync(
            async () => (await osb.ApiAsync($"/instances/{id}/backups")).Body.GetProperty("backups").EnumerateArray().ToList() is var list
                && list.Count(b => b.GetProperty("state").GetString() == "succeeded") == 3 ? list : null,
            TimeSpan.FromSeconds(20));
        all.ShouldContain(b => b.GetProperty("id").GetString() == manual && b.GetProperty("pinned").GetBoolean());

        await server.KillAsync();
        var killedAt = BrokerClock.GetUtcNow();
        await server.StartProcessAsync();
        (await ScheduleAsync(osb, id)).Str("cron").ShouldBe("*/5 * * * * *", "the schedule is durable");
        await WaitUntilAsync(async () => (await ScheduledAsync(osb, id, manual)).Any(b => b.GetProperty("started_at").GetDateTimeOffset() > killedAt && b.GetProperty("state").GetString() == "succeeded"), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Bad_schedules_are_refused_precisely_and_change_nothing()
    {
        await using var server = await StewardServer.StartAsync();
        var osb = server.Client;
        var id = "badsched-" + Guid.NewGuid().ToString("N")[..6];
        var other = "othersched-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.ProvisionReadyAsync(other, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        (await osb.ApiAsync($"/instances/{id}/backup-schedule")).Status.ShouldBe(HttpStatusCode.NotFound, "no schedule yet, and the plan has no default");

        var good = await AsToken(server, token, HttpMethod.Put, $"/instances/{id}/backup-schedule", new { cron = "0 3 * * *", time_zone = "Europe/Berlin", keep_daily = 7 });
        good.Status.ShouldBe(HttpStatusCode.OK, good.ToString());
        var before = (await ScheduleAsync(osb, id)).Text;

        (string Why, object Body, string Error)[] cases =
        [
            ("malformed cron", new { cron = "61 * * * *" }, "cron expression '61 * * * *' is malformed"),
            ("wrong field count", new { cron = "* * * *" }, "has 4 field(s)"),
            ("unknown time zone", new { cron = "0 3 * * *", time_zone = "Mars/Olympus" }, "time zone 'Mars/Olympus' is unknown"),
            ("interval below the plan's minimum", new { every = "5m" }, "runs every 5m at the shortest; the instance's plan allows an instance token 1h at the shortest"),
            ("cron below the plan's minimum", new { cron = "*/10 * * * *" }, "runs every 10m at the shortest"),
            ("negative keep count", new { cron = "0 3 * * *", keep_daily = -1 }, "'keep_daily' must be a whole number of at least 0, not -1"),
            ("policy keeping nothing", new { cron = "0 3 * * *", keep_last = 0 }, "must keep at least one backup"),
            ("cron and interval", new { cron = "0 3 * * *", every = "6h" }, "exactly one of 'cron'"),
            ("malformed interval", new { every = "6 hours" }, "interval '6 hours' is not a duration"),
            ("unknown field", new { cron = "0 3 * * *", keep_hourly = 3 }, "unknown field 'keep_hourly'"),
            ("unknown backup kind", new { cron = "0 3 * * *", kind = "physical" }, "has no backup kind 'physical'"),
        ];
        foreach (var (why, body, error) in cases)
        {
            var reply = await AsToken(server, token, HttpMethod.Put, $"/instances/{id}/backup-schedule", body);
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, $"{why}: {reply}");
            reply.Str("description")!.ShouldContain(error, Case.Sensitive, why);
        }

        (await ScheduleAsync(osb, id)).Text.ShouldBe(before, "nothing changed");
        (await AsToken(server, token, HttpMethod.Put, $"/instances/{other}/backup-schedule", new { cron = "0 3 * * *" })).Status.ShouldBe(HttpStatusCode.NotFound, "another instance does not exist for this token");
        (await AsToken(server, token, HttpMethod.Put, "/backups/bk-nope/pin", new { })).Status.ShouldBe(HttpStatusCode.NotFound);

        var operatorSet = await osb.SendAsync(HttpMethod.Put, $"/api/v1/instances/{id}/backup-schedule", new { every = "5m" }, version: null);
        operatorSet.Status.ShouldBe(HttpStatusCode.OK, "the broker's credentials are not bound by the plan's minimum");
        (await osb.SendAsync(HttpMethod.Delete, $"/api/v1/instances/{id}/backup-schedule", null, version: null)).Status.ShouldBe(HttpStatusCode.OK);
        (await osb.ApiAsync($"/instances/{id}/backup-schedule")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_deletion_cut_by_a_storage_outage_and_kill_9_finishes_at_the_next_start_and_a_failed_scheduled_backup_is_an_incident_until_a_retry_succeeds()
    {
        await using var s3 = new S3rverFixture();
        await s3.InitializeAsync();
        var settings = BackupBrokers.S3Settings(s3);
        settings["STEWARD_BACKUP_RETRY_DELAY"] = "2s";
        settings["STEWARD_BACKUP_RETRIES"] = "20";
        settings["STEWARD_BACKUP_JITTER"] = "0";
        await using var server = await StewardServer.StartAsync(settings);
        var osb = server.Client;
        var id = "sdel-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var doomed = (await osb.BackupAsync(id)).Text("id");
        Directory.EnumerateFiles(s3.DataDirectory, "*", SearchOption.AllDirectories).ShouldContain(f => f.Contains(doomed, StringComparison.Ordinal));

        s3.Kill();
        var delete = await osb.SendAsync(HttpMethod.Delete, $"/api/v1/backups/{doomed}", null, version: null);
        delete.Status.ShouldNotBe(HttpStatusCode.OK, "storage is down: the deletion cannot finish");
        (await osb.ApiAsync($"/backups/{doomed}")).Body.Text("state").ShouldBe("deleting", "never listed as a good backup again");
        var restore = await osb.PostAsync($"/instances/{id}/restore", new { backup_id = doomed });
        restore.Status.ShouldNotBe(HttpStatusCode.Accepted, "a backup being deleted cannot be restored");

        await server.KillAsync();
        await s3.RestartAsync();
        await server.StartProcessAsync();
        await WaitUntilAsync(async () => (await osb.ApiAsync($"/backups/{doomed}")).Status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30));
        Directory.EnumerateFiles(s3.DataDirectory, "*", SearchOption.AllDirectories).ShouldNotContain(f => f.Contains(doomed, StringComparison.Ordinal), "its data and manifest are gone from storage");

        // A daily run due in a few seconds, while storage is down: it fails at the s3 stage, opens an incident,
        // is retried, and the retry after storage returns resolves the incident.
        s3.Kill();
        var due = BrokerClock.GetUtcNow().AddSeconds(6);
        var cron = string.Create(CultureInfo.InvariantCulture, $"{due.Second} {due.Minute} {due.Hour} * * *");
        (await osb.SendAsync(HttpMethod.Put, $"/api/v1/instances/{id}/backup-schedule", new { cron }, version: null)).Status.ShouldBe(HttpStatusCode.OK);
        Reply failing;
        try
        {
            failing = await WaitForAsync(async () => (await ScheduleAsync(osb, id)) is { } s && s.Str("open_incident") is not null ? s : null, TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}: cron {cron}, schedule {(await ScheduleAsync(osb, id)).Text}\n{server.Log}", ex);
        }
        failing.Str("last_result").ShouldBe("failed");
        failing.Str("last_message")!.ShouldContain("failed at stage 's3'");
        var incidentId = failing.Str("open_incident")!;
        var incident = await osb.ApiAsync($"/incidents/{incidentId}");
        incident.Str("class").ShouldBe("backup-failed");
        incident.Str("state").ShouldBe("open");
        incident.Body.GetProperty("evidence").GetProperty("failed_stage").GetString().ShouldBe("s3");

        await s3.RestartAsync();
        await WaitUntilAsync(async () => (await osb.ApiAsync($"/incidents/{incidentId}")).Str("state") == "resolved", TimeSpan.FromSeconds(120));
        (await ScheduleAsync(osb, id)).Str("last_result").ShouldBe("succeeded");
    }

    private static async Task<Reply> ScheduleAsync(OsbClient osb, string id)
    {
        var reply = await osb.ApiAsync($"/instances/{id}/backup-schedule");
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
        return reply;
    }

    private static async Task<List<JsonElement>> ScheduledAsync(OsbClient osb, string id, string manual) =>
        (await osb.ApiAsync($"/instances/{id}/backups")).Body.GetProperty("backups").EnumerateArray().Where(b => b.GetProperty("id").GetString() != manual).ToList();

    private static async Task<Reply> AsToken(StewardServer server, string token, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, "/api/v1" + path) { Content = BackupApi.Json(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> probe, TimeSpan timeout) =>
        await WaitForAsync(async () => await probe() ? string.Empty : null, timeout);

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout)
        where T : class
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"condition not met within {timeout.TotalSeconds} s");
            }

            await Task.Delay(200);
        }
    }
}

using Steward.Backups;
using Steward.Instances;
using Steward.Server.Backups.Schedules;
using Steward.Supervision;

namespace Steward.Server.Tests.Backups.Schedules;

/// <summary>The scheduler on a driven clock: when runs start, how many, and what a failure leaves.</summary>
public sealed class BackupSchedulerTests
{
    private static readonly DateTimeOffset Monday = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_daily_cron_fires_at_its_time_and_not_a_second_before()
    {
        using var h = new SchedulerHarness(Monday);
        await h.InstanceAsync("db1");
        var schedule = await h.ScheduleAsync("db1", cron: "0 3 * * *");
        schedule.NextRunAt.ShouldBe(new DateTimeOffset(2026, 3, 3, 3, 0, 0, TimeSpan.Zero));

        h.Clock.SetUtcNow(new DateTimeOffset(2026, 3, 3, 2, 59, 59, TimeSpan.Zero));
        await h.TickAsync();
        h.Runner.Started.ShouldBeEmpty();

        h.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.TickAsync();
        h.Runner.Started.Count.ShouldBe(1);
        h.Runner.Started[0].StartedAt.ShouldBe(new DateTimeOffset(2026, 3, 3, 3, 0, 0, TimeSpan.Zero));
        (await h.GetAsync("db1"))!.NextRunAt.ShouldBe(new DateTimeOffset(2026, 3, 4, 3, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task Runs_missed_while_the_broker_was_down_are_made_up_once_and_the_next_run_counts_from_now()
    {
        using var h = new SchedulerHarness(Monday);
        await h.InstanceAsync("db1");
        await h.ScheduleAsync("db1", cron: "0 * * * *");

        // The broker is down for three days and ten minutes: 73 hourly runs missed.
        h.Clock.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(10));
        h.Restart();
        await h.RunForAsync(TimeSpan.FromMinutes(45), TimeSpan.FromSeconds(5), h.Runner.FinishAllAsync);

        h.Runner.Started.Count.ShouldBe(1, "one catch-up run, not a burst");
        h.Runner.Started[0].StartedAt.ShouldBe(Monday + TimeSpan.FromDays(3) + TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(5));
        var after = await h.GetAsync("db1");
        after!.LastResult.ShouldBe("succeeded");
        after.NextRunAt.ShouldBe(new DateTimeOffset(2026, 3, 5, 13, 0, 0, TimeSpan.Zero));

        await h.RunForAsync(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5), h.Runner.FinishAllAsync);
        h.Runner.Started.Count.ShouldBe(2, "and then on schedule again");
    }

    [Fact]
    public async Task Never_two_backups_of_one_instance_at_once_even_when_a_run_outlasts_the_interval()
    {
        using var h = new SchedulerHarness(Monday);
        await h.InstanceAsync("db1");
        await h.ScheduleAsync("db1", every: TimeSpan.FromMinutes(1));

        // Each backup takes 150 s: the 1-minute schedule comes due while one still runs.
        await h.RunForAsync(TimeSpan.FromMinutes(20), TimeSpan.FromSeconds(5), async () =>
        {
            foreach (var b in h.Runner.Started.Where(b => h.Clock.GetUtcNow() - b.StartedAt >= TimeSpan.FromSeconds(150)).ToList())
            {
                if (h.Runner.IsRunning("db1") && (await h.Store.GetBackupAsync(b.Id, CancellationToken.None))!.State == BackupState.InProgress)
                {
                    await h.Runner.FinishAsync(b.Id);
                }
            }
        });

        h.Runner.MaxRunning.ShouldBe(1);
        h.Runner.Started.Count.ShouldBeInRange(7, 8, "one run per 150 s backup, each starting as soon as the previous ended");
    }

    [Fact]
    public async Task At_most_the_configured_number_of_backups_run_at_once_and_the_rest_wait_their_turn()
    {
        using var h = new SchedulerHarness(Monday, new BackupScheduleOptions { MaxJitter = TimeSpan.Zero, MaxConcurrent = 2 });
        for (var i = 0; i < 6; i++)
        {
            await h.InstanceAsync($"db{i}");
            await h.ScheduleAsync($"db{i}", cron: "0 0 * * *");
        }

        h.Clock.SetUtcNow(new DateTimeOffset(2026, 3, 3, 0, 0, 0, TimeSpan.Zero));
        await h.TickAsync();
        h.Runner.RunningCount.ShouldBe(2);
        await h.TickAsync();
        h.Runner.Started.Count.ShouldBe(2, "no slot is free");

        await h.Runner.FinishAsync(h.Runner.Started[0].Id);
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        await h.TickAsync();
        h.Runner.Started.Count.ShouldBe(3);
        h.Runner.RunningCount.ShouldBe(2);

        await h.RunForAsync(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1), h.Runner.FinishAllAsync);
        h.Runner.Started.Select(b => b.InstanceId).Distinct().Count().ShouldBe(6, "every instance got its run, once");
        h.Runner.Started.Count.ShouldBe(6);
        h.Runner.MaxRunning.ShouldBe(2);
    }

    [Fact]
    public async Task Instances_due_at_the_same_moment_start_spread_over_the_jitter_window()
    {
        using var h = new SchedulerHarness(Monday, new BackupScheduleOptions { MaxJitter = TimeSpan.FromMinutes(5), MaxConcurrent = 1000 });
        h.Runner.FinishImmediately = true;
        for (var i = 0; i < 200; i++)
        {
            await h.InstanceAsync($"tenant-{i:D3}");
            await h.ScheduleAsync($"tenant-{i:D3}", cron: "0 0 * * *");
        }

        var midnight = new DateTimeOffset(2026, 3, 3, 0, 0, 0, TimeSpan.Zero);
        h.Clock.SetUtcNow(midnight - TimeSpan.FromSeconds(1));
        await h.RunForAsync(TimeSpan.FromMinutes(6), TimeSpan.FromSeconds(10));

        h.Runner.Started.Count.ShouldBe(200);
        var offsets = h.Runner.Started.Select(b => b.StartedAt - midnight).ToList();
        offsets.Min().ShouldBeGreaterThanOrEqualTo(TimeSpan.Zero);
        offsets.Max().ShouldBeLessThanOrEqualTo(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(10));
        var perMinute = offsets.GroupBy(o => (int)o.TotalMinutes).Select(g => g.Count()).ToList();
        perMinute.Count.ShouldBeGreaterThanOrEqualTo(5, "runs fall in every minute of the window");
        perMinute.Max().ShouldBeLessThan(70, "no minute gets a third of all runs");
    }

    [Fact]
    public async Task A_cron_in_Berlin_runs_once_per_day_across_both_daylight_saving_changes()
    {
        using var h = new SchedulerHarness(new DateTimeOffset(2026, 3, 27, 12, 0, 0, TimeSpan.Zero));
        h.Runner.FinishImmediately = true;
        await h.InstanceAsync("db1");
        await h.ScheduleAsync("db1", cron: "30 2 * * *", zone: "Europe/Berlin");

        await h.RunForAsync(TimeSpan.FromDays(4), TimeSpan.FromMinutes(5));
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var spring = h.Runner.Started.Select(b => TimeZoneInfo.ConvertTime(b.StartedAt, berlin)).ToList();
        spring.Select(t => t.Date.Day).ShouldBe([28, 29, 30, 31], "one run per local day");
        spring[0].TimeOfDay.ShouldBe(new TimeSpan(2, 30, 0));
        spring[1].TimeOfDay.ShouldBe(new TimeSpan(3, 0, 0), "02:30 does not exist on 29 March: the run moves to 03:00");
        spring[2].TimeOfDay.ShouldBe(new TimeSpan(2, 30, 0));

        h.Runner.Started.Clear();
        h.Clock.SetUtcNow(new DateTimeOffset(2026, 10, 23, 12, 0, 0, TimeSpan.Zero));
        await h.ScheduleAsync("db1", cron: "30 2 * * *", zone: "Europe/Berlin");
        await h.RunForAsync(TimeSpan.FromDays(4), TimeSpan.FromMinutes(5));
        var autumn = h.Runner.Started.Select(b => TimeZoneInfo.ConvertTime(b.StartedAt, berlin)).ToList();
        autumn.Select(t => t.Date.Day).ShouldBe([24, 25, 26, 27], "02:30 happens twice on 25 October and runs once");
    }

    [Fact]
    public async Task A_failed_run_opens_an_incident_naming_the_stage_is_retried_and_a_success_resolves_it()
    {
        using var h = new SchedulerHarness(Monday, new BackupScheduleOptions { MaxJitter = TimeSpan.Zero, Retries = 2, RetryDelay = TimeSpan.FromMinutes(5) });
        await h.InstanceAsync("db1");
        await h.ScheduleAsync("db1", cron: "0 3 * * *");
        h.Runner.FailAtStage = "s3";

        h.Clock.SetUtcNow(new DateTimeOffset(2026, 3, 3, 3, 0, 0, TimeSpan.Zero));
        await h.TickAsync();
        await h.TickAsync();
        var failed = (await h.GetAsync("db1"))!;
        failed.LastResult.ShouldBe("failed");
        failed.LastMessage.ShouldBe("failed at stage 's3' (storage): connection refused");
        failed.RetryAt.ShouldBe(new DateTimeOffset(2026, 3, 3, 3, 5, 0, TimeSpan.Zero));
        var incident = (await h.Store.GetIncidentAsync(failed.IncidentId!, CancellationToken.None))!;
        incident.Class.ShouldBe(FailureClass.BackupFailed);
        incident.State.ShouldBe(IncidentState.Open);
        incident.Evidence["failed_stage"]!.ToString().ShouldBe("s3");

        // Retries after 5 and 10 more minutes (doubling), then gives up until the next day's run.
        await h.RunForAsync(TimeSpan.FromHours(1), TimeSpan.FromSeconds(30));
        h.Runner.Started.Select(b => b.StartedAt.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(["03:00", "03:05", "03:15"]);
        (await h.GetAsync("db1"))!.RetryAt.ShouldBeNull();
        incident = (await h.Store.GetIncidentAsync(failed.IncidentId!, CancellationToken.None))!;
        incident.Timeline.Count(e => e.Kind == "backup-failed").ShouldBe(3, "one incident for the failing schedule, one entry per attempt");
        (await h.Store.ListIncidentsAsync("db1", CancellationToken.None)).Count.ShouldBe(1);

        h.Runner.FailAtStage = null;
        h.Runner.FinishImmediately = true;
        h.Clock.SetUtcNow(new DateTimeOffset(2026, 3, 4, 3, 0, 0, TimeSpan.Zero));
        await h.TickAsync();
        await h.TickAsync();
        (await h.GetAsync("db1"))!.LastResult.ShouldBe("succeeded");
        (await h.Store.GetIncidentAsync(failed.IncidentId!, CancellationToken.None))!.State.ShouldBe(IncidentState.Resolved);
    }

    [Fact]
    public async Task A_backup_older_than_the_schedule_promises_is_reported_overdue()
    {
        using var h = new SchedulerHarness(Monday, new BackupScheduleOptions { MaxJitter = TimeSpan.Zero, OverdueGrace = TimeSpan.FromMinutes(30) });
        h.Runner.FinishImmediately = true;
        await h.InstanceAsync("db1");
        await h.ScheduleAsync("db1", every: TimeSpan.FromHours(6));
        var view = new ScheduleView(h.Store, h.Options, h.Clock);

        await h.RunForAsync(TimeSpan.FromHours(6) + TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        var fresh = await h.Store.LastSuccessfulBackupsAsync(CancellationToken.None);
        view.Overdue((await h.GetAsync("db1"))!, fresh["db1"], h.Clock.GetUtcNow()).ShouldBeFalse();

        // The instance stops being backed up (it failed): 6 h + 30 min after the last success it is overdue.
        var instance = (await h.Store.GetInstanceAsync("db1", CancellationToken.None))! with { State = InstanceState.Failed };
        await h.Store.SaveInstanceAsync(instance, CancellationToken.None);
        await h.RunForAsync(TimeSpan.FromHours(6) + TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(1));
        view.Overdue((await h.GetAsync("db1"))!, fresh["db1"], h.Clock.GetUtcNow()).ShouldBeFalse("still within the grace");
        (await h.GetAsync("db1"))!.LastResult.ShouldBe("skipped");
        h.Clock.Advance(TimeSpan.FromMinutes(15));
        view.Overdue((await h.GetAsync("db1"))!, fresh["db1"], h.Clock.GetUtcNow()).ShouldBeTrue();
    }

    [Fact]
    public async Task A_plan_default_applies_to_instances_without_their_own_and_follows_the_operator()
    {
        var plan = new BackupSchedule
        {
            InstanceId = string.Empty, Source = "plan", Cron = "0 1 * * *",
            NextRunAt = default, DueAt = default, CreatedAt = default, UpdatedAt = default,
        };
        using var h = new SchedulerHarness(Monday, planDefault: plan);
        await h.InstanceAsync("db1");
        await h.InstanceAsync("db2");
        await h.ScheduleAsync("db2", cron: "0 5 * * *");
        await h.TickAsync();

        (await h.GetAsync("db1"))!.ShouldSatisfyAllConditions(s => s.Source.ShouldBe("plan"), s => s.Cron.ShouldBe("0 1 * * *"));
        (await h.GetAsync("db2"))!.Cron.ShouldBe("0 5 * * *", "the instance's own schedule wins");

        h.Plans.Default = plan with { Cron = "0 2 * * *" };
        await h.TickAsync();
        (await h.GetAsync("db1"))!.NextRunAt.ShouldBe(new DateTimeOffset(2026, 3, 3, 2, 0, 0, TimeSpan.Zero));

        (await h.Scheduler.DeleteAsync("db2", CancellationToken.None)).ShouldBeTrue();
        await h.TickAsync();
        (await h.GetAsync("db2"))!.Source.ShouldBe("plan", "deleting its own schedule falls back to the plan's");

        h.Plans.Default = null;
        await h.TickAsync();
        (await h.GetAsync("db1")).ShouldBeNull();
    }
}

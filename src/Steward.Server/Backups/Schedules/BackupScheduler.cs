using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Backups.Schedules;

/// <summary>
/// Runs scheduled backups on <see cref="ScheduleRunner{TSchedule}"/>, so a restarted broker carries on:
/// a run missed while the broker was down is made up once (never a burst) and the next one is counted from
/// now. It never starts a second backup of an instance, starts due runs oldest first only while fewer than
/// <see cref="BackupScheduleOptions.MaxConcurrent"/> backups run, and spreads runs with a per-instance
/// jitter. A failed run opens (or updates) an incident naming the failing stage and is retried with
/// doubling delays, never past the next run.
/// </summary>
internal sealed class BackupScheduler(
    IStateStore store,
    InstanceIndex index,
    IScheduleStore schedules,
    IBackupRunner runner,
    IPlanDefaults plans,
    BackupScheduleOptions options,
    TimeProvider time,
    ILogger<BackupScheduler> logger) : ScheduleRunner<BackupSchedule>(store, index, time, options.Tick, options.MaxJitter)
{
    private readonly BackupIncidents _incidents = new(store);

    /// <summary>Sets an instance's own schedule (already validated), timed from now.</summary>
    public Task<BackupSchedule> SetAsync(BackupSchedule spec, CancellationToken cancellationToken) => SetAsync(spec.InstanceId, (existing, now) => Timed(spec, now) with
    {
        Source = "instance",
        CreatedAt = existing?.CreatedAt ?? now,
        RunningBackupId = existing?.RunningBackupId,
        LastRunAt = existing?.LastRunAt,
        LastBackupId = existing?.LastBackupId,
        LastResult = existing?.LastResult,
        LastMessage = existing?.LastMessage,
        IncidentId = existing?.IncidentId,
    }, cancellationToken);

    /// <summary>Removes an instance's own schedule; its plan's default (if any) takes over at the next tick.</summary>
    public Task<bool> DeleteAsync(string instanceId, CancellationToken cancellationToken) =>
        DeleteAsync(instanceId, s => s.Source == "instance", cancellationToken);

    /// <summary>When the schedule next tries to run: a pending retry, if it comes before the next run.</summary>
    public static DateTimeOffset NextAttempt(BackupSchedule s) => s.RetryAt is { } retry && retry < s.DueAt ? retry : s.DueAt;

    protected override DateTimeOffset AttemptAt(BackupSchedule schedule) => NextAttempt(schedule);

    protected override Task<int> FreeSlotsAsync(CancellationToken cancellationToken) => Task.FromResult(options.MaxConcurrent - runner.RunningCount);

    protected override void TickFailed(Exception exception) => ScheduleLog.TickFailed(logger, exception);

    protected override Task<BackupSchedule?> GetAsync(string instanceId, CancellationToken cancellationToken) => schedules.GetScheduleAsync(instanceId, cancellationToken);

    protected override Task SaveAsync(BackupSchedule schedule, CancellationToken cancellationToken) => schedules.SaveScheduleAsync(schedule, cancellationToken);

    protected override Task RemoveAsync(string instanceId, CancellationToken cancellationToken) => schedules.DeleteScheduleAsync(instanceId, cancellationToken);

    protected override async Task<BackupSchedule?> FinishedAsync(BackupSchedule schedule, string runningId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var backup = await Store.GetBackupAsync(runningId, cancellationToken);
        return backup is { State: BackupState.InProgress } ? null : await FinishAsync(schedule, backup, now, cancellationToken);
    }

    private BackupSchedule Timed(BackupSchedule spec, DateTimeOffset now)
    {
        var (next, due) = NextRun(spec, now);
        return spec with
        {
            NextRunAt = next,
            DueAt = due,
            RetryAt = null,
            Attempts = 0,
            UpdatedAt = now,
        };
    }

    protected override async Task<IReadOnlyList<BackupSchedule>> ListAsync(CancellationToken cancellationToken) => await schedules.ListSchedulesAsync(cancellationToken);

    protected override BackupSchedule? PlanDefault(ServiceInstance instance, DateTimeOffset now) => plans.DefaultFor(instance, now);

    protected override bool SameSpec(BackupSchedule current, BackupSchedule planDefault) => current.SameSpec(planDefault);

    protected override BackupSchedule FollowDefault(BackupSchedule? current, BackupSchedule planDefault, DateTimeOffset now)
    {
        var timed = Timed(planDefault, now);
        return current is null ? timed : current with
        {
            Cron = timed.Cron, TimeZone = timed.TimeZone, Every = timed.Every, Kind = timed.Kind, Retention = timed.Retention,
            NextRunAt = timed.NextRunAt, DueAt = timed.DueAt, RetryAt = null, Attempts = 0, UpdatedAt = now,
        };
    }

    private async Task<BackupSchedule> FinishAsync(BackupSchedule schedule, BackupRecord? backup, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var backupId = schedule.RunningBackupId;
        schedule = schedule with { RunningBackupId = null, UpdatedAt = now };
        if (backup is null)
        {
            schedule = schedule with { LastResult = "failed", LastMessage = $"backup {backupId} was deleted before it finished" };
        }
        else if (backup.State == BackupState.Succeeded)
        {
            if (schedule.IncidentId is { } incident)
            {
                await _incidents.ResolvedAsync(incident, backup, now, cancellationToken);
            }

            schedule = schedule with { LastResult = "succeeded", LastMessage = null, Attempts = 0, RetryAt = null, IncidentId = null };
        }
        else if (backup.FailureKind == "cancelled")
        {
            schedule = schedule with { LastResult = "cancelled", LastMessage = backup.Message, RetryAt = null };
        }
        else
        {
            var attempt = schedule.Attempts + 1;
            var retryAt = now + (options.RetryDelay * Math.Pow(2, Math.Min(attempt - 1, 16)));
            var retry = attempt <= options.Retries && retryAt < schedule.DueAt;
            var next = retry
                ? $"retry {attempt} of {options.Retries} at {retryAt:O}"
                : $"no further retry; the next scheduled run is at {schedule.DueAt:O}";
            var incidentId = await _incidents.FailedAsync(schedule, backup, attempt, next, now, cancellationToken);
            ScheduleLog.Failed(logger, backup.Id, schedule.InstanceId, BackupIncidents.Describe(backup), next);
            schedule = schedule with
            {
                LastResult = "failed",
                LastMessage = BackupIncidents.Describe(backup),
                Attempts = attempt,
                RetryAt = retry ? retryAt : null,
                IncidentId = incidentId,
            };
        }

        await schedules.SaveScheduleAsync(schedule, cancellationToken);
        return schedule;
    }

    protected override async Task<bool> StartAsync(BackupSchedule schedule, ServiceInstance instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var isRetry = schedule.RetryAt is { } r && r < schedule.DueAt;
        var advanced = isRetry ? schedule with { RetryAt = null } : Advance(schedule, now);
        if (NotReady(instance) is { } reason)
        {
            ScheduleLog.Skipped(logger, instance.Id, reason);
            await schedules.SaveScheduleAsync(advanced with { LastResult = "skipped", LastMessage = reason, UpdatedAt = now }, cancellationToken);
            return false;
        }

        if (runner.IsRunning(instance.Id))
        {
            await DeferAsync(schedule, isRetry, now, cancellationToken);
            return false;
        }

        BackupRecord backup;
        try
        {
            backup = await runner.StartAsync(instance, schedule.Kind, cancellationToken);
        }
        catch (StewardException ex) when (ex.Code == ErrorCode.ConcurrencyError)
        {
            await DeferAsync(schedule, isRetry, now, cancellationToken);
            return false;
        }
        catch (StewardException ex)
        {
            ScheduleLog.Skipped(logger, instance.Id, ex.Message);
            await schedules.SaveScheduleAsync(advanced with { LastResult = "failed", LastMessage = ex.Message, UpdatedAt = now }, cancellationToken);
            return false;
        }

        ScheduleLog.Started(logger, backup.Id, instance.Id, isRetry ? $"retry {schedule.Attempts}" : $"due at {schedule.DueAt:O}");
        await schedules.SaveScheduleAsync(advanced with { RunningBackupId = backup.Id, LastRunAt = now, LastBackupId = backup.Id, UpdatedAt = now }, cancellationToken);
        return true;
    }

    /// <summary>The next run after the one starting now, counted from now: a missed run is made up once, not once per miss.</summary>
    private BackupSchedule Advance(BackupSchedule schedule, DateTimeOffset now)
    {
        var (next, due) = NextRun(schedule, now, schedule.NextRunAt);
        return schedule with { NextRunAt = next, DueAt = due, RetryAt = null, Attempts = 0 };
    }

    /// <summary>The instance is busy (another backup, an operation): try again shortly, without losing the run.</summary>
    private Task DeferAsync(BackupSchedule schedule, bool isRetry, DateTimeOffset now, CancellationToken cancellationToken) =>
        schedules.SaveScheduleAsync(isRetry ? schedule with { RetryAt = now + BusyDelay, UpdatedAt = now } : schedule with { DueAt = now + BusyDelay, UpdatedAt = now }, cancellationToken);
}

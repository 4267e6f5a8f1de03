using Microsoft.Extensions.Options;
using Steward.Errors;
using Steward.Instances;
using Steward.Rehearsals;
using Steward.Server.Backups.Schedules;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>
/// Runs recurring restore rehearsals ("drills") on the backup schedules' <see cref="ScheduleRunner{TSchedule}"/>, with
/// their timing and guarantees. A restarted broker carries on: a drill missed while the broker was down is made up
/// once, and the next one is counted from then. It never starts a second rehearsal of an instance (one still running,
/// scheduled or not, defers the drill by <see cref="BusyDelay"/>), starts due drills oldest first only while fewer
/// than <see cref="RehearsalOptions.Concurrency"/> rehearsals run, and spreads them with the same per-instance jitter
/// as backups (<c>STEWARD_BACKUP_JITTER</c>). A failed drill is an incident (backup-not-restorable, opened by the
/// rehearsal itself); a later drill that passes resolves it. A failed drill is not retried: the same backup would
/// fail the same way.
/// </summary>
internal sealed partial class DrillScheduler(
    IStateStore store,
    InstanceIndex index,
    IRehearsalStore rehearsals,
    IDrillScheduleStore schedules,
    RehearsalService service,
    RehearsalIncidents incidents,
    IPlanDefaults plans,
    EngineRegistry engines,
    BackupScheduleOptions backupOptions,
    IOptions<RehearsalOptions> options,
    TimeProvider time,
    ILogger<DrillScheduler> logger) : ScheduleRunner<DrillSchedule>(store, index, time, backupOptions.Tick, backupOptions.MaxJitter)
{
    /// <summary>Who the rehearsals a drill starts are requested by.</summary>
    public const string RequestedBy = "schedule";

    /// <summary>Sets an instance's drill schedule (already validated), timed from now; the last run's record stays.</summary>
    public Task<DrillSchedule> SetAsync(DrillSchedule spec, CancellationToken cancellationToken) => SetAsync(spec.InstanceId, (existing, now) =>
    {
        var (next, due) = NextRun(spec, now);
        return spec with
        {
            NextRunAt = next,
            DueAt = due,
            CreatedAt = existing?.CreatedAt ?? now,
            UpdatedAt = now,
            RunningRehearsalId = existing?.RunningRehearsalId,
            LastRunAt = existing?.LastRunAt,
            LastRehearsalId = existing?.LastRehearsalId,
            LastResult = existing?.LastResult,
            LastMessage = existing?.LastMessage,
            IncidentId = existing?.IncidentId,
        };
    }, cancellationToken);

    /// <summary>Removes an instance's drill schedule; a drill already running finishes.</summary>
    public Task<bool> DeleteAsync(string instanceId, CancellationToken cancellationToken) => DeleteAsync(instanceId, _ => true, cancellationToken);

    protected override bool Covers(ServiceInstance instance) => instance.State != InstanceState.Deleted;

    // Drills get their own jitter, so an instance's drill and backup due at the same moment do not start together.
    protected override string JitterKey(string instanceId) => instanceId + "/rehearse";

    protected override async Task<IReadOnlyList<DrillSchedule>> ListAsync(CancellationToken cancellationToken) => await schedules.ListDrillSchedulesAsync(cancellationToken);

    /// <summary>
    /// The plan's default drill (STEWARD_REHEARSAL_SCHEDULE[_SERVICE_PLAN]). Instances of highly available plans get
    /// none: their backups cannot be rehearsed yet.
    /// </summary>
    protected override DrillSchedule? PlanDefault(ServiceInstance instance, DateTimeOffset now) =>
        engines.HighlyAvailable(instance) ? null : plans.DrillDefaultFor(instance, now);

    protected override bool SameSpec(DrillSchedule current, DrillSchedule planDefault) => current.SameSpec(planDefault);

    protected override DrillSchedule FollowDefault(DrillSchedule? current, DrillSchedule planDefault, DateTimeOffset now)
    {
        var (next, due) = NextRun(planDefault, now);
        return current is null
            ? planDefault with { NextRunAt = next, DueAt = due }
            : current with { Cron = planDefault.Cron, TimeZone = planDefault.TimeZone, Every = planDefault.Every, NextRunAt = next, DueAt = due, UpdatedAt = now };
    }

    protected override async Task<DrillSchedule?> FinishedAsync(DrillSchedule schedule, string runningId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rehearsal = await rehearsals.GetRehearsalAsync(runningId, cancellationToken);
        return rehearsal is { State: RehearsalState.Running } ? null : await FinishAsync(schedule, rehearsal, now, cancellationToken);
    }

    protected override async Task<int> FreeSlotsAsync(CancellationToken cancellationToken) =>
        options.Value.Concurrency - (await rehearsals.ListRehearsalsAsync(null, cancellationToken)).Count(r => r.State == RehearsalState.Running);

    protected override void TickFailed(Exception exception) => LogTickFailed(logger, exception);

    protected override Task<DrillSchedule?> GetAsync(string instanceId, CancellationToken cancellationToken) => schedules.GetDrillScheduleAsync(instanceId, cancellationToken);

    protected override Task SaveAsync(DrillSchedule schedule, CancellationToken cancellationToken) => schedules.SaveDrillScheduleAsync(schedule, cancellationToken);

    protected override Task RemoveAsync(string instanceId, CancellationToken cancellationToken) => schedules.DeleteDrillScheduleAsync(instanceId, cancellationToken);

    private async Task<DrillSchedule> FinishAsync(DrillSchedule schedule, RehearsalRecord? rehearsal, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = schedule.RunningRehearsalId;
        schedule = schedule with { RunningRehearsalId = null, UpdatedAt = now };
        if (rehearsal is null)
        {
            schedule = schedule with { LastResult = "failed", LastMessage = $"rehearsal {id} disappeared before it finished" };
        }
        else if (rehearsal.State == RehearsalState.Passed)
        {
            if (schedule.IncidentId is { } incident)
            {
                await incidents.SupersededAsync(incident, rehearsal, cancellationToken);
            }

            schedule = schedule with { LastResult = "passed", LastMessage = rehearsal.Summary, IncidentId = null };
        }
        else if (rehearsal.IncidentId is null)
        {
            // Interrupted (the broker stopped): it proved nothing either way, and is no incident.
            schedule = schedule with { LastResult = "interrupted", LastMessage = rehearsal.Summary };
        }
        else
        {
            LogFailed(logger, rehearsal.Id, schedule.InstanceId, rehearsal.Summary ?? "failed", rehearsal.IncidentId);
            schedule = schedule with { LastResult = "failed", LastMessage = rehearsal.Summary, IncidentId = rehearsal.IncidentId };
        }

        await schedules.SaveDrillScheduleAsync(schedule, cancellationToken);
        return schedule;
    }

    protected override async Task<bool> StartAsync(DrillSchedule schedule, ServiceInstance instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The next drill after the one starting now, counted from now: a missed drill is made up once, not once per miss.
        var (next, due) = NextRun(schedule, now, schedule.NextRunAt);
        var advanced = schedule with { NextRunAt = next, DueAt = due, UpdatedAt = now };
        if (NotReady(instance) is { } reason)
        {
            LogSkipped(logger, instance.Id, reason);
            await schedules.SaveDrillScheduleAsync(advanced with { LastRunAt = now, LastResult = "skipped", LastMessage = reason }, cancellationToken);
            return false;
        }

        RehearsalRecord rehearsal;
        try
        {
            rehearsal = await service.StartAsync(instance.Id, RehearsalRequest.Latest, RequestedBy, cancellationToken);
        }
        catch (StewardException ex) when (ex.Code == ErrorCode.ConcurrencyError)
        {
            // Another rehearsal of the instance runs: try again shortly, without losing the drill.
            await schedules.SaveDrillScheduleAsync(schedule with { DueAt = now + BusyDelay, UpdatedAt = now }, cancellationToken);
            return false;
        }
        catch (StewardException ex)
        {
            // Nothing to rehearse (no succeeded backup yet), or no longer rehearsable: recorded, and tried at the next run.
            LogSkipped(logger, instance.Id, ex.Message);
            await schedules.SaveDrillScheduleAsync(advanced with { LastRunAt = now, LastResult = "skipped", LastMessage = ex.Message }, cancellationToken);
            return false;
        }

        LogStarted(logger, rehearsal.Id, instance.Id, rehearsal.BackupId, schedule.DueAt);
        await schedules.SaveDrillScheduleAsync(advanced with { RunningRehearsalId = rehearsal.Id, LastRunAt = now, LastRehearsalId = rehearsal.Id }, cancellationToken);
        return true;
    }

    [LoggerMessage(EventId = 9111, Level = LogLevel.Information, Message = "Scheduled rehearsal {RehearsalId} of instance {InstanceId} started: backup {BackupId} (due at {DueAt:O})")]
    private static partial void LogStarted(ILogger logger, string rehearsalId, string instanceId, string backupId, DateTimeOffset dueAt);

    [LoggerMessage(EventId = 9112, Level = LogLevel.Warning, Message = "Scheduled rehearsal {RehearsalId} of instance {InstanceId} failed: {Summary}; incident {IncidentId}")]
    private static partial void LogFailed(ILogger logger, string rehearsalId, string instanceId, string summary, string incidentId);

    [LoggerMessage(EventId = 9113, Level = LogLevel.Information, Message = "Scheduled rehearsal of instance {InstanceId} skipped: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 9114, Level = LogLevel.Error, Message = "Rehearsal scheduler tick failed")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
}

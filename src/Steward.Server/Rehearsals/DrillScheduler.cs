using Microsoft.Extensions.Options;
using Steward.Errors;
using Steward.Instances;
using Steward.Rehearsals;
using Steward.Server.Backups.Schedules;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>
/// Runs recurring restore rehearsals ("drills") with the backup schedules' timing and guarantees. Everything it
/// knows is in the state store, so a restarted broker carries on: a drill missed while the broker was down is made up
/// once, and the next one is counted from then. It never starts a second rehearsal of an instance (one still running,
/// scheduled or not, defers the drill by <see cref="BusyDelay"/>), starts due drills oldest first only while fewer
/// than <see cref="RehearsalOptions.Concurrency"/> rehearsals run, and spreads them with the same per-instance jitter
/// as backups (<c>STEWARD_BACKUP_JITTER</c>). A failed drill is an incident (backup-not-restorable, opened by the
/// rehearsal itself); a later drill that passes resolves it. A failed drill is not retried: the same backup would
/// fail the same way.
/// </summary>
internal sealed partial class DrillScheduler(
    IStateStore store,
    IRehearsalStore rehearsals,
    IDrillScheduleStore schedules,
    RehearsalService service,
    RehearsalIncidents incidents,
    BackupScheduleOptions backupOptions,
    IOptions<RehearsalOptions> options,
    TimeProvider time,
    ILogger<DrillScheduler> logger) : BackgroundService
{
    /// <summary>Who the rehearsals a drill starts are requested by.</summary>
    public const string RequestedBy = "schedule";

    private static readonly TimeSpan BusyDelay = TimeSpan.FromSeconds(15);
    private readonly SemaphoreSlim _tick = new(1, 1);

    /// <summary>One pass: record finished drills, then start what is due within the concurrency bound.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var instances = (await store.ListInstancesAsync(cancellationToken)).Where(i => i.State != InstanceState.Deleted).ToDictionary(i => i.Id, StringComparer.Ordinal);
            var due = new List<DrillSchedule>();
            foreach (var listed in await schedules.ListDrillSchedulesAsync(cancellationToken))
            {
                if (!instances.ContainsKey(listed.InstanceId))
                {
                    await schedules.DeleteDrillScheduleAsync(listed.InstanceId, cancellationToken);
                    continue;
                }

                var schedule = listed;
                if (schedule.RunningRehearsalId is { } id)
                {
                    var rehearsal = await rehearsals.GetRehearsalAsync(id, cancellationToken);
                    if (rehearsal is { State: RehearsalState.Running })
                    {
                        continue;
                    }

                    schedule = await FinishAsync(schedule, rehearsal, now, cancellationToken);
                }

                if (schedule.DueAt <= now)
                {
                    due.Add(schedule);
                }
            }

            if (due.Count == 0)
            {
                return;
            }

            var free = options.Value.Concurrency - (await rehearsals.ListRehearsalsAsync(null, cancellationToken)).Count(r => r.State == RehearsalState.Running);
            foreach (var schedule in due.OrderBy(s => s.DueAt).ThenBy(s => s.InstanceId, StringComparer.Ordinal))
            {
                if (free <= 0)
                {
                    break;
                }

                if (await StartAsync(schedule, instances[schedule.InstanceId], now, cancellationToken))
                {
                    free--;
                }
            }
        }
        finally
        {
            _tick.Release();
        }
    }

    /// <summary>Sets an instance's drill schedule (already validated), timed from now; the last run's record stays.</summary>
    public async Task<DrillSchedule> SetAsync(DrillSchedule spec, CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var existing = await schedules.GetDrillScheduleAsync(spec.InstanceId, cancellationToken);
            var timing = Timing(spec);
            var next = timing.Next(now);
            var schedule = spec with
            {
                NextRunAt = next,
                DueAt = Due(spec.InstanceId, timing, next),
                CreatedAt = existing?.CreatedAt ?? now,
                UpdatedAt = now,
                RunningRehearsalId = existing?.RunningRehearsalId,
                LastRunAt = existing?.LastRunAt,
                LastRehearsalId = existing?.LastRehearsalId,
                LastResult = existing?.LastResult,
                LastMessage = existing?.LastMessage,
                IncidentId = existing?.IncidentId,
            };
            await schedules.SaveDrillScheduleAsync(schedule, cancellationToken);
            return schedule;
        }
        finally
        {
            _tick.Release();
        }
    }

    /// <summary>Removes an instance's drill schedule; a drill already running finishes.</summary>
    public async Task<bool> DeleteAsync(string instanceId, CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken);
        try
        {
            if (await schedules.GetDrillScheduleAsync(instanceId, cancellationToken) is null)
            {
                return false;
            }

            await schedules.DeleteDrillScheduleAsync(instanceId, cancellationToken);
            return true;
        }
        finally
        {
            _tick.Release();
        }
    }

    public static ScheduleTiming Timing(DrillSchedule s) => ScheduleTiming.Parse(s.Cron, s.TimeZone, s.Every);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogTickFailed(logger, ex);
            }

            try
            {
                await Task.Delay(backupOptions.Tick, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // Drills get their own jitter, so an instance's drill and backup due at the same moment do not start together.
    private DateTimeOffset Due(string instanceId, ScheduleTiming timing, DateTimeOffset next) =>
        ScheduleJitter.Due(instanceId + "/rehearse", timing, next, backupOptions.MaxJitter);

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

    private async Task<bool> StartAsync(DrillSchedule schedule, ServiceInstance instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The next drill after the one starting now, counted from now: a missed drill is made up once, not once per miss.
        var timing = Timing(schedule);
        var next = timing.Next(now, schedule.NextRunAt);
        var advanced = schedule with { NextRunAt = next, DueAt = Due(schedule.InstanceId, timing, next), UpdatedAt = now };
        if (instance.State != InstanceState.Ready)
        {
            var reason = $"instance is {instance.State.ToString().ToLowerInvariant()}";
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

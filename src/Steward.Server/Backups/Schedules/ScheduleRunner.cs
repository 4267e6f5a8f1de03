using Steward.Backups;
using Steward.Instances;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Backups.Schedules;

/// <summary>
/// What every recurring schedule runs on (backups: <see cref="BackupScheduler"/>; restore rehearsals:
/// <see cref="Rehearsals.DrillScheduler"/>). Everything it knows is in the state store, so a restarted broker carries
/// on. A tick records the runs that finished, then starts what is due, oldest first, only while the concurrency bound
/// leaves room; ticks, sets and deletes never overlap. The next run after one that starts is counted from then, so a
/// run missed while the broker was down is made up once, never in a burst; runs are spread by a fixed per-instance
/// jitter (<see cref="ScheduleJitter"/>).
/// </summary>
internal abstract class ScheduleRunner<TSchedule>(IStateStore store, InstanceIndex index, TimeProvider time, TimeSpan tick, TimeSpan maxJitter) : BackgroundService
    where TSchedule : class, IRecurringSchedule
{
    /// <summary>How long a run whose instance is busy (another run, an operation) waits before it tries again.</summary>
    protected static readonly TimeSpan BusyDelay = TimeSpan.FromSeconds(15);
    private readonly SemaphoreSlim _tick = new(1, 1);

    protected IStateStore Store => store;

    /// <summary>One pass: record finished runs, then start what is due within the concurrency bound.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            var instances = (await index.ListAsync(cancellationToken)).Where(Covers).ToDictionary(i => i.Id, StringComparer.Ordinal);
            var due = new List<TSchedule>();
            foreach (var listed in await ReconcileAsync(instances, now, cancellationToken))
            {
                var schedule = listed;
                if (schedule.RunningId is { } runningId)
                {
                    if (await FinishedAsync(schedule, runningId, now, cancellationToken) is not { } finished)
                    {
                        continue;
                    }

                    schedule = finished;
                }

                if (AttemptAt(schedule) <= now)
                {
                    due.Add(schedule);
                }
            }

            if (due.Count == 0)
            {
                return;
            }

            var free = await FreeSlotsAsync(cancellationToken);
            foreach (var schedule in due.OrderBy(AttemptAt).ThenBy(s => s.InstanceId, StringComparer.Ordinal))
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

    /// <summary>
    /// The schedules of the covered instances: drops those of instances that are gone, gives every other instance
    /// its plan's default unless it has its own, follows a changed default, and drops a default its plan no longer has.
    /// </summary>
    private async Task<IReadOnlyList<TSchedule>> ReconcileAsync(Dictionary<string, ServiceInstance> instances, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var kept = new List<TSchedule>();
        var existing = (await ListAsync(cancellationToken)).ToDictionary(s => s.InstanceId, StringComparer.Ordinal);
        foreach (var schedule in existing.Values.Where(s => !instances.ContainsKey(s.InstanceId)))
        {
            await RemoveAsync(schedule.InstanceId, cancellationToken);
        }

        foreach (var instance in instances.Values)
        {
            existing.TryGetValue(instance.Id, out var schedule);
            if (schedule is null || schedule.Source == "plan")
            {
                if (PlanDefault(instance, now) is not { } planDefault)
                {
                    if (schedule is not null)
                    {
                        await RemoveAsync(instance.Id, cancellationToken);
                    }

                    continue;
                }

                if (schedule is null || !SameSpec(schedule, planDefault))
                {
                    schedule = FollowDefault(schedule, planDefault, now);
                    await SaveAsync(schedule, cancellationToken);
                }
            }

            kept.Add(schedule);
        }

        return kept;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicLoop.RunAsync(TickAsync, tick, time, TickFailed, stoppingToken);

    /// <summary>Stores, between ticks, the schedule <paramref name="timed"/> makes of the instance's existing one (or null) and the time now.</summary>
    protected async Task<TSchedule> SetAsync(string instanceId, Func<TSchedule?, DateTimeOffset, TSchedule> timed, CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken);
        try
        {
            var schedule = timed(await GetAsync(instanceId, cancellationToken), time.GetUtcNow());
            await SaveAsync(schedule, cancellationToken);
            return schedule;
        }
        finally
        {
            _tick.Release();
        }
    }

    /// <summary>Removes, between ticks, the instance's schedule if it exists and <paramref name="removable"/> says so; whether it did.</summary>
    protected async Task<bool> DeleteAsync(string instanceId, Func<TSchedule, bool> removable, CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken);
        try
        {
            if (await GetAsync(instanceId, cancellationToken) is not { } schedule || !removable(schedule))
            {
                return false;
            }

            await RemoveAsync(instanceId, cancellationToken);
            return true;
        }
        finally
        {
            _tick.Release();
        }
    }

    /// <summary>The schedule's next occurrence after <paramref name="now"/> (after <paramref name="previous"/> for a run that starts now), and when it is due with the instance's jitter.</summary>
    protected (DateTimeOffset Next, DateTimeOffset Due) NextRun(TSchedule schedule, DateTimeOffset now, DateTimeOffset? previous = null)
    {
        var timing = ScheduleTiming.Of(schedule);
        var next = timing.Next(now, previous);
        return (next, ScheduleJitter.Due(JitterKey(schedule.InstanceId), timing, next, maxJitter));
    }

    /// <summary>Why a due run of <paramref name="instance"/> is skipped instead of started, or null when it may start.</summary>
    protected static string? NotReady(ServiceInstance instance) =>
        instance.State == InstanceState.Ready ? null : $"instance is {instance.State.ToString().ToLowerInvariant()}";

    /// <summary>Whether schedules of <paramref name="instance"/> are run at all.</summary>
    protected virtual bool Covers(ServiceInstance instance) => true;

    /// <summary>What the jitter of an instance's runs is derived from.</summary>
    protected virtual string JitterKey(string instanceId) => instanceId;

    /// <summary>When the schedule next tries to run.</summary>
    protected virtual DateTimeOffset AttemptAt(TSchedule schedule) => schedule.DueAt;

    /// <summary>Every stored schedule of this kind.</summary>
    protected abstract Task<IReadOnlyList<TSchedule>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The instance's plan default as a new schedule (not yet timed), or null when its plan has none.</summary>
    protected abstract TSchedule? PlanDefault(ServiceInstance instance, DateTimeOffset now);

    /// <summary>Whether <paramref name="current"/> already runs as <paramref name="planDefault"/> says (timing and policy, not run state).</summary>
    protected abstract bool SameSpec(TSchedule current, TSchedule planDefault);

    /// <summary><paramref name="current"/> (or, when null, a new schedule) following a changed <paramref name="planDefault"/>, timed from <paramref name="now"/>; its run record stays.</summary>
    protected abstract TSchedule FollowDefault(TSchedule? current, TSchedule planDefault, DateTimeOffset now);

    /// <summary>The schedule with its run <paramref name="runningId"/> recorded as finished (saved), or null while it still runs.</summary>
    protected abstract Task<TSchedule?> FinishedAsync(TSchedule schedule, string runningId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>How many more runs may start now.</summary>
    protected abstract Task<int> FreeSlotsAsync(CancellationToken cancellationToken);

    /// <summary>Starts the due run (or records why not, and when it comes again); whether it started.</summary>
    protected abstract Task<bool> StartAsync(TSchedule schedule, ServiceInstance instance, DateTimeOffset now, CancellationToken cancellationToken);

    protected abstract void TickFailed(Exception exception);

    protected abstract Task<TSchedule?> GetAsync(string instanceId, CancellationToken cancellationToken);

    protected abstract Task SaveAsync(TSchedule schedule, CancellationToken cancellationToken);

    protected abstract Task RemoveAsync(string instanceId, CancellationToken cancellationToken);
}

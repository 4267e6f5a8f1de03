using Steward.Rehearsals;

namespace Steward.State;

/// <summary>Recurring rehearsal schedules, one per instance at most, durable when the task completes.</summary>
public interface IDrillScheduleStore
{
    Task<DrillSchedule?> GetDrillScheduleAsync(string instanceId, CancellationToken cancellationToken);

    Task<IReadOnlyList<DrillSchedule>> ListDrillSchedulesAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the instance's drill schedule.</summary>
    Task SaveDrillScheduleAsync(DrillSchedule schedule, CancellationToken cancellationToken);

    Task DeleteDrillScheduleAsync(string instanceId, CancellationToken cancellationToken);
}

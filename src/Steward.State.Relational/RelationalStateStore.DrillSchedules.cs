using System.Data.Common;
using Steward.Rehearsals;
using Steward.State;

namespace Steward.State.Relational;

/// <summary>Recurring rehearsal schedules, in their own table.</summary>
public abstract partial class RelationalStateStore : IDrillScheduleStore
{
    private const string DrillScheduleColumns = "instance_id, cron, time_zone, every_seconds, next_run_at, due_at, running_rehearsal_id, last_run_at, last_rehearsal_id, last_result, last_message, incident_id, created_at, updated_at, source";

    private static readonly ScheduleTable DrillSchedules = new("rehearsal_schedules", DrillScheduleColumns);

    public Task<DrillSchedule?> GetDrillScheduleAsync(string instanceId, CancellationToken cancellationToken) =>
        GetScheduleRowAsync(DrillSchedules, ReadDrillSchedule, instanceId, cancellationToken);

    public Task<IReadOnlyList<DrillSchedule>> ListDrillSchedulesAsync(CancellationToken cancellationToken) =>
        ListScheduleRowsAsync(DrillSchedules, ReadDrillSchedule, cancellationToken);

    public Task SaveDrillScheduleAsync(DrillSchedule s, CancellationToken cancellationToken) => SaveScheduleRowAsync(
        DrillSchedules,
        s,
        cancellationToken,
        ("@running_rehearsal_id", s.RunningRehearsalId), ("@last_rehearsal_id", s.LastRehearsalId), ("@source", s.Source));

    public Task DeleteDrillScheduleAsync(string instanceId, CancellationToken cancellationToken) =>
        DeleteScheduleRowAsync(DrillSchedules, instanceId, cancellationToken);

    private static DrillSchedule ReadDrillSchedule(DbDataReader r) => new()
    {
        InstanceId = r.GetString(0),
        Cron = Text(r, 1),
        TimeZone = r.GetString(2),
        Every = r.IsDBNull(3) ? null : TimeSpan.FromSeconds(r.GetInt64(3)),
        NextRunAt = ParseTime(r.GetString(4)),
        DueAt = ParseTime(r.GetString(5)),
        RunningRehearsalId = Text(r, 6),
        LastRunAt = Text(r, 7) is { } last ? ParseTime(last) : null,
        LastRehearsalId = Text(r, 8),
        LastResult = Text(r, 9),
        LastMessage = Text(r, 10),
        IncidentId = Text(r, 11),
        CreatedAt = ParseTime(r.GetString(12)),
        UpdatedAt = ParseTime(r.GetString(13)),
        Source = r.GetString(14),
    };
}

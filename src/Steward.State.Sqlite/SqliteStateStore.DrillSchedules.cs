using Microsoft.Data.Sqlite;
using Steward.Rehearsals;
using Steward.State;

namespace Steward.State.Sqlite;

/// <summary>Recurring rehearsal schedules, in their own table.</summary>
public sealed partial class SqliteStateStore : IDrillScheduleStore
{
    private const string DrillScheduleSchema = """
        CREATE TABLE IF NOT EXISTS rehearsal_schedules (
            instance_id TEXT PRIMARY KEY,
            cron TEXT,
            time_zone TEXT NOT NULL,
            every_seconds INTEGER,
            next_run_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            running_rehearsal_id TEXT,
            last_run_at TEXT,
            last_rehearsal_id TEXT,
            last_result TEXT,
            last_message TEXT,
            incident_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """;

    private const string DrillScheduleColumns = "instance_id, cron, time_zone, every_seconds, next_run_at, due_at, running_rehearsal_id, last_run_at, last_rehearsal_id, last_result, last_message, incident_id, created_at, updated_at";

    public async Task<DrillSchedule?> GetDrillScheduleAsync(string instanceId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {DrillScheduleColumns} FROM rehearsal_schedules WHERE instance_id = $i", ReadDrillSchedule, cancellationToken, ("$i", instanceId))).FirstOrDefault();

    public Task<IReadOnlyList<DrillSchedule>> ListDrillSchedulesAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {DrillScheduleColumns} FROM rehearsal_schedules ORDER BY due_at, instance_id", ReadDrillSchedule, cancellationToken);

    public Task SaveDrillScheduleAsync(DrillSchedule s, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT OR REPLACE INTO rehearsal_schedules ({DrillScheduleColumns})
        VALUES ($i, $cron, $tz, $every, $next, $due, $running, $lastRun, $lastRehearsal, $lastResult, $lastMessage, $incident, $created, $updated)
        """,
        cancellationToken,
        ("$i", s.InstanceId), ("$cron", s.Cron), ("$tz", s.TimeZone), ("$every", s.Every is { } e ? (long)e.TotalSeconds : null),
        ("$next", Time(s.NextRunAt)), ("$due", Time(s.DueAt)), ("$running", s.RunningRehearsalId), ("$lastRun", s.LastRunAt is { } l ? Time(l) : null),
        ("$lastRehearsal", s.LastRehearsalId), ("$lastResult", s.LastResult), ("$lastMessage", s.LastMessage), ("$incident", s.IncidentId),
        ("$created", Time(s.CreatedAt)), ("$updated", Time(s.UpdatedAt)));

    public Task DeleteDrillScheduleAsync(string instanceId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM rehearsal_schedules WHERE instance_id = $i", cancellationToken, ("$i", instanceId));

    private static DrillSchedule ReadDrillSchedule(SqliteDataReader r) => new()
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
    };
}

using System.Data.Common;
using Steward.Backups;
using Steward.State;

namespace Steward.State.Relational;

/// <summary>Backup schedules and pinned backups, in their own tables.</summary>
public abstract partial class RelationalStateStore : IScheduleStore
{
    private const string ScheduleColumns = "instance_id, source, cron, time_zone, every_seconds, kind, keep_last, keep_daily, keep_weekly, keep_monthly, next_run_at, due_at, retry_at, attempts, running_backup_id, last_run_at, last_backup_id, last_result, last_message, incident_id, created_at, updated_at";

    private static readonly ScheduleTable BackupSchedules = new("backup_schedules", ScheduleColumns);

    public Task<BackupSchedule?> GetScheduleAsync(string instanceId, CancellationToken cancellationToken) =>
        GetScheduleRowAsync(BackupSchedules, ReadSchedule, instanceId, cancellationToken);

    public Task<IReadOnlyList<BackupSchedule>> ListSchedulesAsync(CancellationToken cancellationToken) =>
        ListScheduleRowsAsync(BackupSchedules, ReadSchedule, cancellationToken);

    public Task SaveScheduleAsync(BackupSchedule s, CancellationToken cancellationToken) => SaveScheduleRowAsync(
        BackupSchedules,
        s,
        cancellationToken,
        ("@source", s.Source), ("@kind", s.Kind),
        ("@keep_last", s.Retention.KeepLast), ("@keep_daily", s.Retention.KeepDaily), ("@keep_weekly", s.Retention.KeepWeekly), ("@keep_monthly", s.Retention.KeepMonthly),
        ("@retry_at", s.RetryAt is { } r ? Time(r) : null), ("@attempts", s.Attempts), ("@running_backup_id", s.RunningBackupId), ("@last_backup_id", s.LastBackupId));

    public Task DeleteScheduleAsync(string instanceId, CancellationToken cancellationToken) =>
        DeleteScheduleRowAsync(BackupSchedules, instanceId, cancellationToken);

    public Task SetPinnedAsync(string backupId, DateTimeOffset? pinnedAt, CancellationToken cancellationToken) => pinnedAt is { } at
        ? WriteAsync("INSERT INTO backup_pins (backup_id, pinned_at) VALUES (@id, @at) ON CONFLICT (backup_id) DO NOTHING", cancellationToken, ("@id", backupId), ("@at", Time(at)))
        : WriteAsync("DELETE FROM backup_pins WHERE backup_id = @id", cancellationToken, ("@id", backupId));

    public async Task<IReadOnlySet<string>> PinnedBackupsAsync(string? instanceId, CancellationToken cancellationToken) => (instanceId is null
        ? await QueryAsync("SELECT p.backup_id FROM backup_pins p JOIN backups b ON b.id = p.backup_id", r => r.GetString(0), cancellationToken)
        : await QueryAsync("SELECT p.backup_id FROM backup_pins p JOIN backups b ON b.id = p.backup_id WHERE b.instance_id = @i", r => r.GetString(0), cancellationToken, ("@i", instanceId)))
        .ToHashSet(StringComparer.Ordinal);

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> LastSuccessfulBackupsAsync(CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT instance_id, MAX(completed_at) FROM backups WHERE state = 'Succeeded' AND completed_at IS NOT NULL GROUP BY instance_id", r => (r.GetString(0), ParseTime(r.GetString(1))), cancellationToken))
        .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);

    private static BackupSchedule ReadSchedule(DbDataReader r) => new()
    {
        InstanceId = r.GetString(0),
        Source = r.GetString(1),
        Cron = Text(r, 2),
        TimeZone = r.GetString(3),
        Every = r.IsDBNull(4) ? null : TimeSpan.FromSeconds(r.GetInt64(4)),
        Kind = Text(r, 5),
        Retention = new RetentionPolicy { KeepLast = Int(r, 6), KeepDaily = Int(r, 7), KeepWeekly = Int(r, 8), KeepMonthly = Int(r, 9) },
        NextRunAt = ParseTime(r.GetString(10)),
        DueAt = ParseTime(r.GetString(11)),
        RetryAt = Text(r, 12) is { } retry ? ParseTime(retry) : null,
        Attempts = r.GetInt32(13),
        RunningBackupId = Text(r, 14),
        LastRunAt = Text(r, 15) is { } last ? ParseTime(last) : null,
        LastBackupId = Text(r, 16),
        LastResult = Text(r, 17),
        LastMessage = Text(r, 18),
        IncidentId = Text(r, 19),
        CreatedAt = ParseTime(r.GetString(20)),
        UpdatedAt = ParseTime(r.GetString(21)),
    };

    private static int? Int(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt32(i);
}

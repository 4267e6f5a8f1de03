using Steward.Backups;

namespace Steward.State;

/// <summary>Backup schedules and pins, durable when the task completes. Both state stores implement it beside <see cref="IStateStore"/>.</summary>
public interface IScheduleStore
{
    Task<BackupSchedule?> GetScheduleAsync(string instanceId, CancellationToken cancellationToken);

    Task<IReadOnlyList<BackupSchedule>> ListSchedulesAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the instance's schedule.</summary>
    Task SaveScheduleAsync(BackupSchedule schedule, CancellationToken cancellationToken);

    Task DeleteScheduleAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Pins a backup (kept regardless of retention) as of <paramref name="pinnedAt"/>, or unpins it when null.</summary>
    Task SetPinnedAsync(string backupId, DateTimeOffset? pinnedAt, CancellationToken cancellationToken);

    /// <summary>The pinned backups among one instance's, or among all.</summary>
    Task<IReadOnlySet<string>> PinnedBackupsAsync(string? instanceId, CancellationToken cancellationToken);

    /// <summary>Each instance's newest succeeded backup completion time: the recovery point a backup gives.</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> LastSuccessfulBackupsAsync(CancellationToken cancellationToken);
}

using Steward.Backups;
using Steward.Instances;

namespace Steward.Server.Backups.Schedules;

/// <summary>What the scheduler needs of the backup service: start a backup, and how many run.</summary>
internal interface IBackupRunner
{
    /// <summary>Backups running on this broker now, scheduled or not.</summary>
    int RunningCount { get; }

    bool IsRunning(string instanceId);

    /// <summary>Records and starts a backup; throws a concurrency error when the instance is busy.</summary>
    Task<BackupRecord> StartAsync(ServiceInstance instance, string? kind, CancellationToken cancellationToken);
}

using Steward.Backups;
using Steward.Instances;
using Steward.Server.Broker;

namespace Steward.Server.Backups.Schedules;

/// <summary>Scheduled runs go through the same <see cref="BackupService"/> as requested backups.</summary>
internal sealed class BackupServiceRunner(BackupService backups) : IBackupRunner
{
    private static readonly RequestIdentity Scheduler = new("steward-scheduler", null);

    public int RunningCount => backups.RunningCount;

    public bool IsRunning(string instanceId) => backups.IsRunning(instanceId);

    public Task<BackupRecord> StartAsync(ServiceInstance instance, string? kind, CancellationToken cancellationToken) =>
        backups.StartAsync(instance, kind, Scheduler, cancellationToken);
}

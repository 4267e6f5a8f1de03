using Steward.Backups;
using Steward.Server.Backups.Schedules;
using Steward.State;

namespace Steward.Server.Backups.Retention;

/// <summary>
/// Applies an instance's retention policy (from its schedule) after each of its backups succeeds: what the
/// policy, a pin or a participant does not keep is deleted through <see cref="BackupDeleter"/>, then every
/// <see cref="IRetentionParticipant"/> learns the oldest kept base backup.
/// </summary>
internal sealed class RetentionService(
    IStateStore store,
    IScheduleStore schedules,
    BackupDeleter deleter,
    IEnumerable<IRetentionParticipant> participants,
    ILogger<RetentionService> logger) : IBackupObserver
{
    private readonly IReadOnlyList<IRetentionParticipant> _participants = participants.ToList();
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task BackupFinishedAsync(BackupRecord backup, CancellationToken cancellationToken)
    {
        if (backup.State != BackupState.Succeeded)
        {
            return;
        }

        try
        {
            await PruneAsync(backup.InstanceId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ScheduleLog.RetentionFailed(logger, backup.InstanceId, ex);
        }
    }

    /// <summary>One retention pass over one instance; null when it has no retention policy.</summary>
    public async Task<RetentionOutcome?> PruneAsync(string instanceId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (await schedules.GetScheduleAsync(instanceId, cancellationToken) is not { Retention.IsNone: false } schedule)
            {
                return null;
            }

            var protectedIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var participant in _participants)
            {
                protectedIds.UnionWith(await participant.ProtectedBackupsAsync(instanceId, cancellationToken));
            }

            var backups = await store.ListBackupsAsync(instanceId, cancellationToken);
            var pinned = await schedules.PinnedBackupsAsync(instanceId, cancellationToken);
            var decisions = RetentionPlanner.Plan(backups, schedule.Retention, pinned, protectedIds, ScheduleTiming.FindZone(schedule.TimeZone));
            var deleted = new List<BackupRecord>();
            foreach (var decision in decisions.Where(d => !d.Keep))
            {
                ScheduleLog.Pruning(logger, instanceId, decision.Backup.Id, "not kept by the retention policy");
                await deleter.DeleteAsync(decision.Backup, cancellationToken);
                deleted.Add(decision.Backup);
            }

            var kept = decisions.Where(d => d.Keep).Select(d => d.Backup).OrderByDescending(b => b.CompletedAt).ToList();
            var oldestBase = decisions.Where(d => d.KeptByPolicy && d.Backup.Kind is "physical" or "incremental").Select(d => d.Backup).MinBy(b => b.CompletedAt);
            var outcome = new RetentionOutcome(instanceId, kept, deleted, oldestBase);
            foreach (var participant in _participants)
            {
                await participant.AfterPruneAsync(outcome, cancellationToken);
            }

            return outcome;
        }
        finally
        {
            _gate.Release();
        }
    }
}

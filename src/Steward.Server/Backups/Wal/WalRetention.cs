using System.Text.Json;
using Steward.Backups;
using Steward.Operations;
using Steward.Server.Backups.Retention;
using Steward.State;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// Retention of the WAL archive, tied to the base backups retention keeps: WAL before the oldest base backup the
/// policy keeps is removed (no kept backup can replay it), and a restore, rebuild, repair or rehearsal in progress keeps both its base backup
/// and the WAL after it until it has finished.
/// </summary>
internal sealed class WalRetention(IStateStore store, WalArchive archive, IRehearsalStore rehearsals) : IRetentionParticipant
{
    public async Task<IReadOnlySet<string>> ProtectedBackupsAsync(string instanceId, CancellationToken cancellationToken) =>
        new HashSet<string>(await RestoringFromAsync(instanceId, cancellationToken), StringComparer.Ordinal);

    public async Task AfterPruneAsync(RetentionOutcome outcome, CancellationToken cancellationToken)
    {
        if (outcome.OldestKeptBase is not { } oldest || RecoveryPlanner.BaseOf(oldest) is not { } start)
        {
            // Without a base backup (or one that does not say where it stopped) no WAL can be shown to be unneeded.
            return;
        }

        var cut = start.StopSegment;
        foreach (var restoring in await RestoringFromAsync(outcome.InstanceId, cancellationToken))
        {
            if (outcome.Kept.FirstOrDefault(b => b.Id == restoring) is { } restoreBase && RecoveryPlanner.BaseOf(restoreBase) is { } from)
            {
                cut = Math.Min(cut, from.StopSegment);
            }
        }

        await archive.PruneAsync(outcome.InstanceId, cut, cancellationToken);
    }

    /// <summary>
    /// The backups of the instance that a restore, rebuild or repair of it, or a clone of it, still in progress starts from
    /// (with the WAL after them: a clone at a point in time replays the source's archive).
    /// </summary>
    private async Task<List<string>> RestoringFromAsync(string instanceId, CancellationToken cancellationToken)
    {
        var from = new List<string>();
        if (await store.LatestInstanceOperationAsync(instanceId, cancellationToken) is { Kind: OperationKind.Restore or OperationKind.Rebuild or OperationKind.Repair, State: OperationState.InProgress, PayloadJson: { } json })
        {
            using var payload = JsonDocument.Parse(json);
            var root = payload.RootElement.TryGetProperty("Plan", out var repairPlan) ? repairPlan : payload.RootElement;
            if (root.TryGetProperty("BackupId", out var id) && id.GetString() is { } backup)
            {
                from.Add(backup);
            }
        }

        // A rehearsal replays its backup's WAL from the archive (to the end of the backup, or to its point in time).
        foreach (var rehearsal in await rehearsals.ListRehearsalsAsync(instanceId, cancellationToken))
        {
            if (rehearsal.State == Steward.Rehearsals.RehearsalState.Running)
            {
                from.Add(rehearsal.BackupId);
            }
        }

        foreach (var op in await store.ListInProgressOperationsAsync(cancellationToken))
        {
            if (op is { Kind: OperationKind.Provision, PayloadJson: { } clone } && JsonSerializer.Deserialize<Operations.ClonePayload>(clone) is { SourceInstanceId: var source, BackupId: { } backup } && source == instanceId)
            {
                from.Add(backup);
            }
        }

        return from;
    }
}

using System.Text.Json;
using Steward.Backups;
using Steward.Operations;
using Steward.Server.Backups.Retention;
using Steward.State;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// Retention of the WAL archive, tied to the base backups retention keeps: WAL before the oldest base backup the
/// policy keeps is removed (no kept backup can replay it), and a restore in progress keeps both its base backup
/// and the WAL after it until it has finished.
/// </summary>
internal sealed class WalRetention(IStateStore store, WalArchive archive) : IRetentionParticipant
{
    public async Task<IReadOnlySet<string>> ProtectedBackupsAsync(string instanceId, CancellationToken cancellationToken) =>
        await RestoringFromAsync(instanceId, cancellationToken) is { } id ? new HashSet<string>(StringComparer.Ordinal) { id } : new HashSet<string>();

    public async Task AfterPruneAsync(RetentionOutcome outcome, CancellationToken cancellationToken)
    {
        if (outcome.OldestKeptBase is not { } oldest || RecoveryPlanner.BaseOf(oldest) is not { } start)
        {
            // Without a base backup (or one that does not say where it stopped) no WAL can be shown to be unneeded.
            return;
        }

        var cut = start.StopSegment;
        if (await RestoringFromAsync(outcome.InstanceId, cancellationToken) is { } restoring
            && outcome.Kept.FirstOrDefault(b => b.Id == restoring) is { } restoreBase && RecoveryPlanner.BaseOf(restoreBase) is { } from)
        {
            cut = Math.Min(cut, from.StopSegment);
        }

        await archive.PruneAsync(outcome.InstanceId, cut, cancellationToken);
    }

    /// <summary>The backup a restore or rebuild of the instance still in progress starts from, or null.</summary>
    private async Task<string?> RestoringFromAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (await store.LatestInstanceOperationAsync(instanceId, cancellationToken) is not { Kind: OperationKind.Restore or OperationKind.Rebuild, State: OperationState.InProgress, PayloadJson: { } json })
        {
            return null;
        }

        using var payload = JsonDocument.Parse(json);
        return payload.RootElement.TryGetProperty("BackupId", out var id) ? id.GetString() : null;
    }
}

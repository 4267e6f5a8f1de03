using Steward.Backup.Manifest;
using Steward.Backup.Pipeline;
using Steward.Backups;
using Steward.Server.Backups.Schedules;
using Steward.State;

namespace Steward.Server.Backups.Retention;

/// <summary>
/// Deletes backups durably: the record is marked <c>deleting</c> first (from then on it is never listed as
/// restorable), then the manifest and the data object are removed, then the record. Every step may be
/// repeated, so a deletion interrupted anywhere (storage down, broker killed) is finished by
/// <see cref="ResumeAsync"/> at the next start.
/// </summary>
internal sealed class BackupDeleter(IStateStore store, IBackupStorage storage, ILogger<BackupDeleter> logger)
{
    public async Task DeleteAsync(BackupRecord backup, CancellationToken cancellationToken)
    {
        if (backup.State != BackupState.Deleting)
        {
            await store.SaveBackupAsync(backup with { State = BackupState.Deleting }, cancellationToken);
        }

        await RemoveAsync(ManifestStore.ManifestKey(backup.Key), cancellationToken);
        await RemoveAsync(backup.Key, cancellationToken);
        await store.DeleteBackupAsync(backup.Id, cancellationToken);
    }

    /// <summary>Finishes deletions a previous run of the broker left half done.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        foreach (var backup in await store.ListBackupsAsync(null, cancellationToken))
        {
            if (backup.State != BackupState.Deleting)
            {
                continue;
            }

            try
            {
                await DeleteAsync(backup, cancellationToken);
                ScheduleLog.DeleteResumed(logger, backup.Id);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ScheduleLog.DeleteFailed(logger, backup.Id, ex.Message);
            }
        }
    }

    private async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await storage.DeleteAsync(key, cancellationToken);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone with its directory: the step is done.
        }
    }
}

using Steward.Backups;

namespace Steward.Server.Backups;

/// <summary>Told about every backup once its final state is stored (succeeded or failed).</summary>
internal interface IBackupObserver
{
    Task BackupFinishedAsync(BackupRecord backup, CancellationToken cancellationToken);
}

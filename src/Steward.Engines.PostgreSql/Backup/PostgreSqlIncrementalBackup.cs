using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Unpack;

namespace Steward.Engines.PostgreSql.Backup;

/// <summary>
/// Incremental physical backups: the data directory read directly (<see cref="DataDirectorySource"/>), each backup
/// holding only the files that changed since the one it builds on, the first of a chain (or one taken after the
/// data directory was replaced) holding them all. Restored like a physical backup, each file from the backup of
/// the chain that holds it (<see cref="BackupChain"/>).
/// </summary>
public sealed class PostgreSqlIncrementalBackup(TimeProvider time) : IChainedBackupMethod
{
    public string Service => "postgresql";

    public string Kind => "incremental";

    public string Description => "the data directory's files changed since the previous incremental backup (the first one of a chain: all of them), with the WAL to make it consistent";

    public bool IsDefault => false;

    public bool RestoresWholeDataDirectory => true;

    public bool ReadsInstanceFiles => true;

    public IBackupSource CreateSource(EngineContext context) => throw new InvalidOperationException("an incremental backup needs its backup id and parent: use the IChainedBackupMethod overload");

    public IBackupSource CreateSource(EngineContext context, string backupId, BackupLink? parent) =>
        new RowCountingSource(new DataDirectorySource(context, backupId, parent, time), context);

    public Task RestoreAsync(EngineContext context, IRestoreHost host, CancellationToken cancellationToken) =>
        DataDirectoryRestore.RunAsync(
            context,
            host,
            async (staging, ct) =>
            {
                await BackupChain.UnpackAsync(host, staging, ct);

                // Read from a standby (an ha instance's), the data directory carries its standby.signal: restored, it is a primary.
                await context.Runtime.DeleteFileAsync(Path.Combine(staging, "standby.signal"), ct);
            },
            cancellationToken);
}

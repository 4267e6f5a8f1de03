using Steward.Backup.Pipeline;
using Steward.Engines;

namespace Steward.Backup.Engines;

/// <summary>
/// A backup method whose backups may build on an earlier one (incremental backups): the framework picks the
/// <see cref="BackupLink"/> to build on, or none for a full backup, and the method decides what changed since.
/// </summary>
public interface IChainedBackupMethod : IBackupMethod
{
    /// <summary>The source for backup <paramref name="backupId"/> built on <paramref name="parent"/>; a full backup when it is null.</summary>
    IBackupSource CreateSource(EngineContext context, string backupId, BackupLink? parent);
}

/// <summary>An earlier succeeded backup a new one may build on: its id, when it started, and its manifest's engine facts.</summary>
public sealed record BackupLink(string Id, DateTimeOffset StartedAt, IReadOnlyDictionary<string, string> Properties);

namespace Steward.Backups;

/// <summary>Where a backup is. Only <see cref="Succeeded"/> backups can be restored.</summary>
public enum BackupState
{
    InProgress,

    /// <summary>Data and manifest are durably stored and their digests recorded.</summary>
    Succeeded,

    Failed,

    /// <summary>Being removed (by retention or on request): never restorable again; the deletion resumes after a broker restart.</summary>
    Deleting,
}

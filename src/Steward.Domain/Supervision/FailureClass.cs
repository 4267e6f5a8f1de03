namespace Steward.Supervision;

/// <summary>Why an instance failed, decided before any action is taken.</summary>
public enum FailureClass
{
    /// <summary>The server refuses its configuration; a restart cannot fix it.</summary>
    ConfigError,

    /// <summary>The data directory is damaged or missing; a restart cannot fix it.</summary>
    DataCorruption,

    /// <summary>The file system is full; a restart cannot fix it.</summary>
    DiskFull,

    /// <summary>The kernel's OOM killer ended the server.</summary>
    OomKilled,

    /// <summary>Something sent the server a fatal signal.</summary>
    KilledBySignal,

    /// <summary>Another process holds the instance's port.</summary>
    PortConflict,

    /// <summary>The server did not answer within the startup timeout.</summary>
    StartupTimeout,

    /// <summary>
    /// Something stopped the server process (SIGSTOP): it holds its data but runs no code. It is continued,
    /// never killed.
    /// </summary>
    ProcessStopped,

    /// <summary>The process exists but does not answer the protocol-level health check.</summary>
    UnhealthyButRunning,

    /// <summary>A scheduled backup failed (the incident names the failing stage); the instance itself keeps serving.</summary>
    BackupFailed,

    /// <summary>WAL waits to be archived longer than allowed (storage down or slow); the server keeps running.</summary>
    WalArchiveBehind,

    /// <summary>None of the above could be established.</summary>
    /// <summary>A restore rehearsal of a backup failed: the backup cannot be relied on to restore the instance.</summary>
    BackupNotRestorable,

    Unknown,
}

namespace Steward.Supervision;

/// <summary>Names and policy of failure classes.</summary>
public static class FailureClasses
{
    /// <summary>The kebab-case name used in APIs and logs (config-error, killed-by-signal, ...).</summary>
    public static string Name(this FailureClass c) => c switch
    {
        FailureClass.ConfigError => "config-error",
        FailureClass.DataCorruption => "data-corruption",
        FailureClass.DiskFull => "disk-full",
        FailureClass.OomKilled => "oom-killed",
        FailureClass.KilledBySignal => "killed-by-signal",
        FailureClass.PortConflict => "port-conflict",
        FailureClass.StartupTimeout => "startup-timeout",
        FailureClass.ProcessStopped => "process-stopped",
        FailureClass.UnhealthyButRunning => "unhealthy-but-running",
        FailureClass.BackupFailed => "backup-failed",
        FailureClass.WalArchiveBehind => "wal-archive-behind",
        FailureClass.BackupNotRestorable => "backup-not-restorable",
        _ => "unknown",
    };

    /// <summary>
    /// Whether restarting can help. Configuration errors, damaged data, a full disk and a port held by
    /// someone else fail again the same way: restarting them only hides the cause.
    /// </summary>
    public static bool IsRestartable(this FailureClass c) =>
        c is not (FailureClass.ConfigError or FailureClass.DataCorruption or FailureClass.DiskFull or FailureClass.PortConflict);
}

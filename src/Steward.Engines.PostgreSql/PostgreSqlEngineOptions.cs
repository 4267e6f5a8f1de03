namespace Steward.Engines.PostgreSql;

/// <summary>Where the PostgreSQL server binaries are.</summary>
public sealed record PostgreSqlEngineOptions
{
    /// <summary>Directory with postgres and initdb; found under /usr/lib/postgresql when not set.</summary>
    public string? BinDir { get; init; }

    /// <summary>Continuous WAL archiving to the broker; off when null.</summary>
    public Wal.PostgreSqlWalOptions? Wal { get; init; }

    /// <summary>
    /// How often the health check commits its heartbeat on a primary that nobody else writes to (zero: at every
    /// check). A primary others write to gets it at every check; see PostgreSqlEngine.Probe.cs.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the supervisor's recurring check keeps using one connection before it proves again, on a new one, that
    /// the server accepts connections (zero: a new connection at every check); see PostgreSqlEngine.Check.cs.
    /// </summary>
    public TimeSpan CheckReconnectInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether a physical backup reads the data directory itself (between <c>pg_backup_start</c> and
    /// <c>pg_backup_stop</c>) where the broker shares the instance's files and the plan is not ha, rather than
    /// <c>pg_basebackup</c>'s stream; see Backup/PostgreSqlPhysicalBackup.cs.
    /// </summary>
    public bool BackupReadsDataDirectory { get; init; } = true;

    /// <summary>The newest /usr/lib/postgresql/N/bin that holds a postgres binary, or null.</summary>
    public static string? DiscoverBinDir()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
            .Where(x => File.Exists(Path.Combine(x.Dir, "postgres")))
            .OrderByDescending(x => x.Version)
            .Select(x => x.Dir)
            .FirstOrDefault();
    }
}

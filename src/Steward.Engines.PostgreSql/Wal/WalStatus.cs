namespace Steward.Engines.PostgreSql.Wal;

/// <summary>What the server itself says about its archiving (<c>pg_stat_archiver</c> and <c>pg_wal/archive_status</c>).</summary>
public sealed record WalStatus
{
    public required bool ArchiveModeOn { get; init; }

    public required bool InRecovery { get; init; }

    public long ArchivedCount { get; init; }

    public string? LastArchivedWal { get; init; }

    public DateTimeOffset? LastArchivedTime { get; init; }

    public long FailedCount { get; init; }

    public string? LastFailedWal { get; init; }

    public DateTimeOffset? LastFailedTime { get; init; }

    /// <summary>Completed segments the server still waits to see archived (<c>.ready</c>).</summary>
    public int PendingSegments { get; init; }

    /// <summary>When the oldest of them was completed.</summary>
    public DateTimeOffset? OldestPendingSince { get; init; }

    /// <summary>The segment being written now.</summary>
    public string? CurrentWal { get; init; }

    public string? CurrentLsn { get; init; }

    public int Timeline { get; init; }

    /// <summary>When the server process started.</summary>
    public DateTimeOffset? ServerStartedAt { get; init; }

    /// <summary>Bytes of one segment (<c>wal_segment_size</c>).</summary>
    public long SegmentBytes { get; init; } = 16 * 1024 * 1024;
}

namespace Steward.HighAvailability;

/// <summary>
/// Where one member stands, as the server itself says. LSNs are byte positions in the WAL: a primary's
/// <see cref="FlushLsn"/>; a standby's <see cref="ReceiveLsn"/> (on disk) and <see cref="ReplayLsn"/> (visible).
/// </summary>
public sealed record MemberObservation(bool InRecovery, long Timeline, ulong? FlushLsn, ulong? ReceiveLsn, ulong? ReplayLsn)
{
    /// <summary>The standbys streaming from this member (a primary's view).</summary>
    public IReadOnlyList<ReplicaObservation> Replicas { get; init; } = [];

    /// <summary>The furthest WAL position the member holds.</summary>
    public ulong Position => InRecovery ? Math.Max(ReceiveLsn ?? 0, ReplayLsn ?? 0) : FlushLsn ?? 0;
}

/// <summary>One standby as the primary sees it (PostgreSQL's pg_stat_replication, Redis' INFO replication).</summary>
public sealed record ReplicaObservation(string Name, string State, string SyncState, ulong? FlushLsn, ulong? ReplayLsn)
{
    /// <summary>The replica's port, where the primary reports it (Redis names replicas by address, not by slot).</summary>
    public int? Port { get; init; }
}

namespace Steward.HighAvailability;

/// <summary>
/// What of a member's configuration files its running server has not taken: the settings only a restart applies,
/// and among them those lowered below the running value that a standby must hold at least at its primary's value
/// (PostgreSQL's max_connections, max_worker_processes, max_wal_senders, max_prepared_transactions,
/// max_locks_per_transaction), which decide the order of a rolling restart.
/// </summary>
public sealed record PendingSettings(IReadOnlyList<string> NeedRestart, IReadOnlyList<string> LoweredForStandbys)
{
    public static PendingSettings None { get; } = new([], []);
}

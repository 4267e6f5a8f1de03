using Steward.Engines;

namespace Steward.HighAvailability;

/// <summary>
/// What a data service engine offers highly available plans: make a member a primary or a standby, clone a
/// standby from the primary, observe where a member stands, promote one. Contexts are per member (its own
/// port and directory); every method that changes state is idempotent.
/// </summary>
public interface IReplicationEngine
{
    /// <summary>The service (catalog id) this replication belongs to.</summary>
    string ServiceId { get; }

    /// <summary>
    /// True when a write is acknowledged only once a standby has it (PostgreSQL's synchronous commit), so a
    /// failover to the most advanced standby loses no acknowledged write; false for asynchronous replication
    /// (Redis), where writes the primary acknowledged but had not yet sent can be lost.
    /// </summary>
    bool Synchronous { get; }

    /// <summary>
    /// True when users and passwords travel with the replicated data (PostgreSQL roles): credentials are created
    /// on the primary only. False when each server keeps its own (Redis ACL files): every member gets them.
    /// </summary>
    bool UsersReplicate { get; }

    /// <summary>Writes the member's replication settings: a primary when <see cref="ReplicationRole.PrimaryPort"/> is null, else a standby of it.</summary>
    Task ConfigureMemberAsync(EngineContext member, ReplicationRole role, CancellationToken cancellationToken);

    /// <summary>Fills the empty data directory of <paramref name="target"/> with a copy of <paramref name="source"/>'s, taken live.</summary>
    Task CloneAsync(EngineContext target, EngineContext source, CancellationToken cancellationToken);

    /// <summary>Asks the member where it stands; throws when it does not answer.</summary>
    Task<MemberObservation> ObserveAsync(EngineContext member, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a running member re-read its settings — those <see cref="ConfigureMemberAsync"/> wrote (a standby follows a
    /// new primary) and the engine's own configuration file — applying every one that needs no restart.
    /// </summary>
    Task ReloadAsync(EngineContext member, CancellationToken cancellationToken);

    /// <summary>What of the member's configuration files the running server has not taken (after <see cref="ReloadAsync"/>: only a restart applies it).</summary>
    Task<PendingSettings> PendingSettingsAsync(EngineContext member, CancellationToken cancellationToken);

    /// <summary>
    /// The last position a cleanly stopped member wrote (PostgreSQL: its shutdown checkpoint; Redis: its final
    /// replication offset minus one), read from its data directory: a standby that received past it holds everything.
    /// </summary>
    Task<ulong?> StoppedPositionAsync(EngineContext member, CancellationToken cancellationToken);

    /// <summary>Makes a standby a primary and waits until it accepts writes.</summary>
    Task PromoteAsync(EngineContext member, CancellationToken cancellationToken);
}

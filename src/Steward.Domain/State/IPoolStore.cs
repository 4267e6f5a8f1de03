using Steward.Pool;

namespace Steward.State;

/// <summary>The warm pool's entries, durable when the task completes. Both state stores implement it beside <see cref="IStateStore"/>.</summary>
public interface IPoolStore
{
    Task<IReadOnlyList<PoolEntry>> ListPoolEntriesAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or replaces an entry.</summary>
    Task SavePoolEntryAsync(PoolEntry entry, CancellationToken cancellationToken);

    /// <summary>
    /// The entry <paramref name="instanceId"/> took earlier, or else the oldest Ready entry of the service with
    /// <paramref name="fingerprint"/>, marked Taken by the instance in the same statement (so no entry is ever
    /// handed to two instances); null when there is none.
    /// </summary>
    Task<PoolEntry?> TakePoolEntryAsync(string serviceId, string fingerprint, string instanceId, CancellationToken cancellationToken);

    Task DeletePoolEntryAsync(string entryId, CancellationToken cancellationToken);
}

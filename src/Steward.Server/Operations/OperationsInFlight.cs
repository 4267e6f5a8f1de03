using System.Collections.Concurrent;
using Steward.Operations;
using Steward.State;

namespace Steward.Server.Operations;

/// <summary>
/// Which instances an operation holds — queued or running in this broker's <see cref="OperationRunner"/> — answered from
/// memory. The supervisor asks before every check of every instance; asking the state store (the instance's latest
/// operation, one more statement for SQLite to parse) was 5 % of an idle broker's CPU with 550 instances. The runner is
/// the source: only the active broker runs operations (with a PostgreSQL store, a standby refuses every request), every
/// operation recorded in progress is queued or run by it, and at its start it queues every operation a previous broker
/// left in progress. Until it has done so, the store answers.
/// </summary>
internal sealed class OperationsInFlight(IStateStore store)
{
    private readonly ConcurrentDictionary<string, int> _held = new(StringComparer.Ordinal);
    private volatile bool _recovered;
    private long _storeLookups;

    /// <summary>Times the store was asked instead (the metric <c>steward_supervisor_operation_lookups_total</c>): only at start.</summary>
    public long StoreLookups => Interlocked.Read(ref _storeLookups);

    /// <summary>True when an operation is queued or running for the instance.</summary>
    public async ValueTask<bool> HoldsAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (_recovered)
        {
            return _held.ContainsKey(instanceId);
        }

        Interlocked.Increment(ref _storeLookups);
        return _held.ContainsKey(instanceId)
            || await store.LatestInstanceOperationAsync(instanceId, cancellationToken) is { State: OperationState.InProgress };
    }

    /// <summary>The operation is queued or about to run: its instance is held until <see cref="Release"/>.</summary>
    public void Hold(Operation operation) => _held.AddOrUpdate(operation.InstanceId, 1, (_, n) => n + 1);

    /// <summary>The operation held by <see cref="Hold"/> has ended (or stopped with the broker).</summary>
    public void Release(Operation operation)
    {
        while (_held.TryGetValue(operation.InstanceId, out var n))
        {
            if (n <= 1 ? _held.TryRemove(new KeyValuePair<string, int>(operation.InstanceId, n)) : _held.TryUpdate(operation.InstanceId, n - 1, n))
            {
                return;
            }
        }
    }

    /// <summary>Every operation left in progress by a previous broker is held: from now on memory answers.</summary>
    public void Recovered() => _recovered = true;
}

using Steward.Instances;
using Steward.State;

namespace Steward.Server.Supervision;

/// <summary>
/// What keeps supervision's cost proportional to its work: the instances are kept in memory and read from the store
/// again only when the store says they changed (and at least every <see cref="Resync"/>, as a safety net), and at
/// most <see cref="MaxConcurrentChecks"/> protocol checks run at once, so hundreds of instances due together queue
/// instead of opening hundreds of connections at the same moment.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>Checks that may run at once; each is a short connection and query, mostly waiting on the network.</summary>
    internal const int MaxConcurrentChecks = 32;

    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _checkSlots = new(MaxConcurrentChecks);
    private IReadOnlyList<ServiceInstance> _instances = [];
    private long _instancesVersion = -1;
    private long _listedAt;

    /// <summary>How often the supervisor listed the state store (for the scale test and the density benchmark).</summary>
    public long Listings { get; private set; }

    private async Task<IReadOnlyList<ServiceInstance>> InstancesAsync(CancellationToken cancellationToken)
    {
        // The version is read before listing: a change committed while listing is seen at the next tick.
        var version = store is IInstanceChangeFeed feed ? feed.InstancesVersion : (long?)null;
        if (version is null || version != _instancesVersion || Listings == 0 || time.GetElapsedTime(_listedAt) > Resync)
        {
            _instances = await store.ListInstancesAsync(cancellationToken);
            _instancesVersion = version ?? -1;
            _listedAt = time.GetTimestamp();
            Listings++;
        }

        return _instances;
    }
}

using Steward.Instances;
using Steward.State;

namespace Steward.Server.Operations;

/// <summary>
/// The recorded instances kept in memory for the loops that look at all of them every few hundred milliseconds (the
/// supervisor, the HA controller, the schedulers): read from the store again only when the store says an instance
/// changed (<see cref="IInstanceChangeFeed"/>), and at least every <see cref="Resync"/> as a safety net. A listing
/// decrypts every instance's credentials and parses its row; at 550 instances, listing on every tick of three loops
/// was a sixth of the idle broker's CPU. The store seen here is the observed one (the feed comes from the store
/// itself, which the observing proxy does not expose). A store without a feed is listed every time.
/// </summary>
internal sealed class InstanceIndex(IStateStore store, IInstanceChangeFeed? feed, TimeProvider time)
{
    /// <summary>Re-read even when no change was announced.</summary>
    internal static readonly TimeSpan Resync = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _listing = new(1, 1);
    private IReadOnlyList<ServiceInstance> _instances = [];
    private Dictionary<string, ServiceInstance> _byId = new(StringComparer.Ordinal);
    private long _version = -1;
    private long _listedAt;
    private long _listings;

    /// <summary>How often the store was listed since the broker started (the metric <c>steward_state_instance_listings_total</c>).</summary>
    public long Listings => Interlocked.Read(ref _listings);

    /// <summary>Every recorded instance (any state), as of the latest change the store announced.</summary>
    public async Task<IReadOnlyList<ServiceInstance>> ListAsync(CancellationToken cancellationToken)
    {
        await _listing.WaitAsync(cancellationToken);
        try
        {
            // The version is read before listing: a change committed while listing is seen at the next call.
            var version = feed?.InstancesVersion;
            if (version is null || version != _version || Listings == 0 || time.GetElapsedTime(_listedAt) > Resync)
            {
                _instances = await store.ListInstancesAsync(cancellationToken);
                _byId = _instances.ToDictionary(i => i.Id, StringComparer.Ordinal);
                _version = version ?? -1;
                _listedAt = time.GetTimestamp();
                Interlocked.Increment(ref _listings);
            }

            return _instances;
        }
        finally
        {
            _listing.Release();
        }
    }

    /// <summary>The recorded instance, as of the latest change the store announced; null when there is none.</summary>
    public async Task<ServiceInstance?> GetAsync(string instanceId, CancellationToken cancellationToken)
    {
        await ListAsync(cancellationToken);
        return Volatile.Read(ref _byId).GetValueOrDefault(instanceId);
    }
}

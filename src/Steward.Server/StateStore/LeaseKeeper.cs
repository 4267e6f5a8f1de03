using Steward.State;

namespace Steward.Server.StateStore;

/// <summary>
/// One broker's side of the lease, timed by its own clock: as a candidate it takes the lease when it is free, or when
/// the record has not changed for a whole <see cref="Duration"/> since this broker last saw it change (its holder
/// stopped renewing); as the holder it renews it. Clocks of different brokers are never compared.
/// </summary>
internal sealed class LeaseKeeper(IBrokerLease lease, TimeProvider clock, TimeSpan duration, string me)
{
    private LeaseRecord? _observed;
    private long _observedAt;
    private bool _seen;

    public string Me => me;

    public TimeSpan Duration => duration;

    /// <summary>The lease this broker holds, or null.</summary>
    public LeaseRecord? Held { get; private set; }

    /// <summary>The holder this broker last saw (empty when the lease was free).</summary>
    public string ObservedHolder => _observed?.Holder ?? string.Empty;

    /// <summary>One look as a candidate; true when this broker now holds the lease.</summary>
    public async Task<bool> TryTakeAsync(CancellationToken cancellationToken)
    {
        var current = await lease.ReadLeaseAsync(cancellationToken);
        if (!_seen || current != _observed)
        {
            _seen = true;
            _observed = current;
            _observedAt = clock.GetTimestamp();
        }

        var free = current is null || current.Released;
        if (!free && clock.GetElapsedTime(_observedAt) < duration)
        {
            return false;
        }

        Held = await lease.TakeLeaseAsync(me, current, clock.GetUtcNow(), cancellationToken);
        return Held is not null;
    }

    /// <summary>Renews the held lease; false when another broker took it over (this one must stop at once).</summary>
    public async Task<bool> RenewAsync(CancellationToken cancellationToken)
    {
        var held = Held ?? throw new InvalidOperationException("the lease is not held");
        Held = await lease.RenewLeaseAsync(held, clock.GetUtcNow(), cancellationToken);
        return Held is not null;
    }

    /// <summary>Gives the held lease up (a graceful stop), so a standby takes over at its next look.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (Held is { } held)
        {
            Held = null;
            await lease.ReleaseLeaseAsync(held, cancellationToken);
        }
    }
}

using Steward.HighAvailability;
using Steward.Instances;

namespace Steward.Server.HighAvailability;

/// <summary>
/// The stable endpoints of a highly available instance: read-write, leading to the primary only, and read-only, leading
/// to the streaming standbys. Steward alone decides where they lead. Beside the broker an HAProxy
/// (<see cref="HaProxy"/>); on a runtime with its own routing (<see cref="Steward.Runtime.IMemberPlaces"/>, Kubernetes)
/// Services that select members by a role label (<see cref="HaServices"/>).
/// </summary>
internal interface IHaEndpoint
{
    /// <summary>True when the endpoints exist and route (a proxy process runs; Services were made since the broker started).</summary>
    bool IsRunning(ServiceInstance instance);

    /// <summary>Makes the endpoints lead to <paramref name="primary"/>, creating them when missing.</summary>
    Task EnsureRunningAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember? primary, CancellationToken cancellationToken);

    /// <summary>Leads the read-write endpoint to <paramref name="primary"/> (null: to nobody), away from every other slot; the primary leaves the read-only endpoint.</summary>
    Task RouteAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember? primary, CancellationToken cancellationToken);

    /// <summary>Takes one slot out of both endpoints (fencing), leaving the others as they are.</summary>
    Task CutAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken);

    /// <summary>Takes a standby about to be promoted out of the read-only endpoint; best effort, never holds up a failover.</summary>
    Task LeaveReadOnlyAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken);

    /// <summary>Leads the read-only endpoint to exactly the slots in <paramref name="streaming"/>, never the primary's.</summary>
    Task ReadOnlyAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember primary, IReadOnlySet<int> streaming, CancellationToken cancellationToken);
}

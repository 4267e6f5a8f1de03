using System.Collections.Concurrent;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;

namespace Steward.Server.HighAvailability;

/// <summary>
/// The endpoints of a highly available instance where the runtime routes by itself (<see cref="IMemberPlaces"/>:
/// Kubernetes Services <c>-rw</c> and <c>-ro</c> selecting members by a role label): Steward leads them by labelling
/// members, exactly where it would enable HAProxy's server lines. The Services outlive the broker, as HAProxy does; a
/// broker restart re-labels from the view it rebuilds from the servers.
/// </summary>
internal sealed class HaServices(HaLayout layout, IHaMemberStore members, Steward.Server.Operations.PortAllocator ports) : IHaEndpoint
{
    /// <summary>The slots the read-only endpoint leads to now, per instance (rebuilt at the first routing after a broker start).</summary>
    private readonly ConcurrentDictionary<string, IReadOnlySet<int>> _readable = new();

    /// <summary>Instances whose Services were applied since the broker started.</summary>
    private readonly ConcurrentDictionary<string, byte> _ensured = new();

    private IMemberPlaces Places => layout.Places ?? throw new InvalidOperationException("the runtime does not route to members by itself");

    public bool IsRunning(ServiceInstance instance) => _ensured.ContainsKey(instance.Id);

    public async Task EnsureRunningAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember? primary, CancellationToken cancellationToken)
    {
        var port = instance.Port ?? throw new InvalidOperationException($"instance {instance.Id} has no port for its endpoint");
        var readOnlyPort = await members.GetReadOnlyPortAsync(instance.Id, cancellationToken)
            ?? await ports.AllocateAsync(p => members.SaveReadOnlyPortAsync(instance.Id, p, cancellationToken), cancellationToken);
        await Places.EnsureEndpointsAsync(layout.Runtime.PathsFor(instance.InternalId), port, readOnlyPort, cancellationToken);
        await RouteAsync(instance, slots, primary, cancellationToken);
        _ensured[instance.Id] = 0;
    }

    public async Task RouteAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember? primary, CancellationToken cancellationToken)
    {
        var readable = _readable.TryGetValue(instance.Id, out var current) ? current.Where(s => s != primary?.Slot).ToHashSet() : [];
        _readable[instance.Id] = readable;

        // Everything else first, so that at no moment two members carry the primary's label.
        foreach (var slot in slots.Where(s => s.Slot != primary?.Slot && s.Role != MemberRole.Fenced))
        {
            await Places.RouteAsync(layout.Member(instance, slot), readable.Contains(slot.Slot) ? MemberEndpoint.ReadOnly : MemberEndpoint.None, cancellationToken);
        }

        if (primary is not null)
        {
            await Places.RouteAsync(layout.Member(instance, primary), MemberEndpoint.ReadWrite, cancellationToken);
        }
    }

    public async Task CutAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        Forget(instance, member);
        await Places.RouteAsync(layout.Member(instance, member), MemberEndpoint.None, cancellationToken);
    }

    public async Task LeaveReadOnlyAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        try
        {
            await CutAsync(instance, member, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The routing after the promotion labels it again.
        }
    }

    public async Task ReadOnlyAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember primary, IReadOnlySet<int> streaming, CancellationToken cancellationToken)
    {
        var target = streaming.Where(s => s != primary.Slot).ToHashSet();
        if (_readable.TryGetValue(instance.Id, out var current) && current.SetEquals(target))
        {
            return;
        }

        foreach (var slot in slots.Where(s => s.Slot != primary.Slot && s.Role != MemberRole.Fenced))
        {
            await Places.RouteAsync(layout.Member(instance, slot), target.Contains(slot.Slot) ? MemberEndpoint.ReadOnly : MemberEndpoint.None, cancellationToken);
        }

        _readable[instance.Id] = target;
    }

    private void Forget(ServiceInstance instance, HaMember member)
    {
        if (_readable.TryGetValue(instance.Id, out var current))
        {
            _readable[instance.Id] = current.Where(s => s != member.Slot).ToHashSet();
        }
    }
}

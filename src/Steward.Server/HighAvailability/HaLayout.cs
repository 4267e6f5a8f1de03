using Steward.Engines;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Operations;

namespace Steward.Server.HighAvailability;

/// <summary>
/// Where the parts of a highly available instance live: each member in <c>members/&lt;name&gt;/</c> and the
/// stable endpoint in <c>proxy/</c>, all under the instance's own directory, so deleting the instance stops
/// and removes every one of them.
/// </summary>
internal sealed class HaLayout(EngineRegistry engines)
{
    public const string FencedMarker = "FENCED";

    public IInstanceRuntime Runtime => engines.Runtime;

    /// <summary>The runtime's own member places and routing (Kubernetes), or null where members run beside the broker behind HAProxy.</summary>
    public IMemberPlaces? Places => Runtime as IMemberPlaces;

    public InstancePaths Member(ServiceInstance instance, HaMember member) =>
        new(Path.Combine(Runtime.PathsFor(instance.InternalId).Root, "members", member.Name));

    public InstancePaths Proxy(ServiceInstance instance) => new(Path.Combine(Runtime.PathsFor(instance.InternalId).Root, "proxy"));

    /// <summary>The engine context of one member: the instance's identity and credentials, the member's port and files.</summary>
    public EngineContext Context(ServiceInstance instance, HaMember member) =>
        engines.Context(instance with { Port = member.Port }) with { Paths = Member(instance, member) };

    /// <summary>
    /// The number of the next member name (m1, m2, …): above every recorded member and every member directory
    /// left on disk (fenced members kept from before a plan change), so no name is ever reused.
    /// </summary>
    public int NextMemberNumber(ServiceInstance instance, IEnumerable<HaMember> members)
    {
        var dir = Path.Combine(Runtime.PathsFor(instance.InternalId).Root, "members");
        var onDisk = Directory.Exists(dir) ? Directory.EnumerateDirectories(dir).Select(Path.GetFileName) : [];
        return members.Select(m => m.Name).Concat(onDisk!)
            .Select(n => n is ['m', .. var digits] && int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k) ? k : 0)
            .DefaultIfEmpty(0).Max() + 1;
    }

    public bool IsFencedOnDisk(ServiceInstance instance, HaMember member) =>
        Places is { } places ? places.IsFenced(Member(instance, member)) : File.Exists(Path.Combine(Member(instance, member).Root, FencedMarker));

    /// <summary>
    /// <see cref="HaMembers.Role"/> with where a standby reaches its primary: the primary's own address (the same loopback
    /// for every member beside the broker, the primary member's Service on Kubernetes).
    /// </summary>
    public ReplicationRole Role(ServiceInstance instance, HaMember member, HaMember? primary, int slots, bool synchronous = true) =>
        HaMembers.Role(member, primary, slots, synchronous) with
        {
            PrimaryHost = primary is null || member.Slot == primary.Slot ? null : Runtime.ClientHost(Member(instance, primary)),
        };
}

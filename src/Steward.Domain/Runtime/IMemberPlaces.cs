namespace Steward.Runtime;

/// <summary>Which endpoint of a highly available instance leads to a member.</summary>
public enum MemberEndpoint
{
    /// <summary>Neither: a member being built, not streaming, fenced, or about to be promoted.</summary>
    None,

    /// <summary>The read-write endpoint: the primary.</summary>
    ReadWrite,

    /// <summary>The read-only endpoint: a streaming standby.</summary>
    ReadOnly,
}

/// <summary>
/// An optional ability of a runtime that gives every member of a highly available instance a place of its own (a pod
/// on Kubernetes) and routes clients to members with the platform's own means (Services that select members by a role
/// label) instead of a proxy beside the broker. Members' places are made with
/// <see cref="IInstanceRuntime.CreateInstanceAsync"/> on their own paths; a fenced member's place is taken away so that
/// nothing can start its server again, while its files are kept for inspection.
/// </summary>
public interface IMemberPlaces
{
    /// <summary>
    /// Makes the place of a highly available instance ready for its members, removing whatever a failed attempt left
    /// (members' places, endpoints): what <see cref="IInstanceRuntime.CreateDirectoriesAsync"/> does for its directory
    /// where the instance's files are beside the broker.
    /// </summary>
    Task CreateGroupAsync(InstancePaths instance, CancellationToken cancellationToken);

    /// <summary>
    /// Creates (or keeps) the instance's two endpoints: read-write on <paramref name="port"/>, leading to the member
    /// routed <see cref="MemberEndpoint.ReadWrite"/>, and read-only on <paramref name="readOnlyPort"/>, leading to
    /// those routed <see cref="MemberEndpoint.ReadOnly"/>. Idempotent; their addresses never change once made.
    /// </summary>
    Task EnsureEndpointsAsync(InstancePaths instance, int port, int readOnlyPort, CancellationToken cancellationToken);

    /// <summary>The address of the read-only endpoint (the read-write one is <see cref="IInstanceRuntime.ClientHost"/> of the instance).</summary>
    string ReadOnlyHost(InstancePaths instance);

    /// <summary>Leads <paramref name="endpoint"/> to the member at <paramref name="member"/> (and no other endpoint); nothing when its place is gone.</summary>
    Task RouteAsync(InstancePaths member, MemberEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>
    /// Fences a member for good: its server is killed, its place taken away so that nothing (the platform included)
    /// runs it again, and it is marked with <paramref name="note"/>; its files are kept. Idempotent.
    /// </summary>
    Task FenceAsync(InstancePaths member, string note, CancellationToken cancellationToken);

    /// <summary>True when the member at <paramref name="member"/> was fenced (<see cref="FenceAsync"/>).</summary>
    bool IsFenced(InstancePaths member);
}

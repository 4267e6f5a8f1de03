namespace Steward.HighAvailability;

/// <summary>Durable records of the members of highly available instances. Writes are durable when the task completes.</summary>
public interface IHaMemberStore
{
    /// <summary>Every member of the instance, fenced ones included, in creation order.</summary>
    Task<IReadOnlyList<HaMember>> ListMembersAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the member (instance id and name are the key).</summary>
    Task SaveMemberAsync(HaMember member, CancellationToken cancellationToken);

    /// <summary>Removes every member record of the instance (and its read-only endpoint's port).</summary>
    Task DeleteMembersAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>The port of the instance's read-only endpoint (to its standbys), or null before one was allocated.</summary>
    Task<int?> GetReadOnlyPortAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Records the port of the instance's read-only endpoint.</summary>
    Task SaveReadOnlyPortAsync(string instanceId, int port, CancellationToken cancellationToken);
}

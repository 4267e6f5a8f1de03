namespace Steward.HighAvailability;

/// <summary>
/// One server of a highly available instance: its own process, port and directory. Members hold a
/// <see cref="Slot"/> (1..plan size) whose port never changes, so a multi-host URI handed out at bind time
/// stays valid when a failed member is replaced.
/// </summary>
public sealed record HaMember
{
    public required string InstanceId { get; init; }

    /// <summary>Unique within the instance and never reused (m1, m2, …): a replacement gets a new name and directory.</summary>
    public required string Name { get; init; }

    public required int Slot { get; init; }

    public required int Port { get; init; }

    public required MemberRole Role { get; init; }

    /// <summary>Why the member has its role (fenced: the incident and the reason).</summary>
    public string? Detail { get; init; }

    /// <summary>The incident that fenced this member, if any.</summary>
    public string? IncidentId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The name servers use for the slot (PostgreSQL application_name): stable across replacements.</summary>
    public string SlotName => "node" + Slot.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

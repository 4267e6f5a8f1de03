namespace Steward.Instances;

/// <summary>
/// A service instance as Steward records it. <see cref="Id"/> is the platform's id; <see cref="InternalId"/>
/// is Steward's own short id that names directories and processes, so no client string ever becomes a path.
/// </summary>
public sealed record ServiceInstance
{
    public required string Id { get; init; }

    public required string InternalId { get; init; }

    public required string ServiceId { get; init; }

    public required string PlanId { get; init; }

    /// <summary>Provision/update parameters as a JSON object (never null; "{}" when none).</summary>
    public string ParametersJson { get; init; } = "{}";

    /// <summary>The platform's context object as received.</summary>
    public string? ContextJson { get; init; }

    public string? OrganizationGuid { get; init; }

    public string? SpaceGuid { get; init; }

    public string? MaintenanceVersion { get; init; }

    /// <summary>Loopback port of the instance's server; null until allocated.</summary>
    public int? Port { get; init; }

    /// <summary>Superuser/admin account Steward keeps for itself. Never returned to clients.</summary>
    public required string AdminUser { get; init; }

    public required string AdminPassword { get; init; }

    public required InstanceState State { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Not printed: the record holds the admin password.</summary>
    public override string ToString() => $"ServiceInstance {{ Id = {Id}, InternalId = {InternalId}, State = {State} }}";
}

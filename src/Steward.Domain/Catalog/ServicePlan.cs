namespace Steward.Catalog;

/// <summary>A plan of a service offering.</summary>
public sealed record ServicePlan
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Description { get; init; }

    public required PlanLimits Limits { get; init; }

    public required MaintenanceInfo MaintenanceInfo { get; init; }

    public bool Free { get; init; } = true;

    /// <summary>How the supervisor checks instances of this plan.</summary>
    public HealthCheckPolicy HealthCheck { get; init; } = new();

    /// <summary>
    /// Servers per instance: 1 for a standalone server; more for a highly available plan (a primary and
    /// standbys, each its own process, port and directory, behind one stable endpoint).
    /// </summary>
    public int Members { get; init; } = 1;

    /// <summary>True when instances of this plan run a primary with standbys and fail over automatically.</summary>
    public bool HighlyAvailable => Members > 1;

    /// <summary>Parameters accepted when provisioning.</summary>
    public ParameterSchema ProvisionSchema { get; init; } = ParameterSchema.Empty;

    /// <summary>Parameters accepted when updating.</summary>
    public ParameterSchema UpdateSchema { get; init; } = ParameterSchema.Empty;

    /// <summary>Parameters accepted when binding.</summary>
    public ParameterSchema BindSchema { get; init; } = ParameterSchema.Empty;
}

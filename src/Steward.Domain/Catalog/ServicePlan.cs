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

    /// <summary>Parameters accepted when provisioning.</summary>
    public ParameterSchema ProvisionSchema { get; init; } = ParameterSchema.Empty;

    /// <summary>Parameters accepted when updating.</summary>
    public ParameterSchema UpdateSchema { get; init; } = ParameterSchema.Empty;

    /// <summary>Parameters accepted when binding.</summary>
    public ParameterSchema BindSchema { get; init; } = ParameterSchema.Empty;
}

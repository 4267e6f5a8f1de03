namespace Steward.Catalog;

/// <summary>A service offering in the catalog, supplied by its engine.</summary>
public sealed record ServiceOffering
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Description { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    public bool Bindable { get; init; } = true;

    public bool PlanUpdateable { get; init; } = true;

    public required IReadOnlyList<ServicePlan> Plans { get; init; }

    /// <summary>The plan with <paramref name="planId"/>, or null.</summary>
    public ServicePlan? FindPlan(string planId) => Plans.FirstOrDefault(p => p.Id == planId);
}

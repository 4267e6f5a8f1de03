namespace Steward.Catalog;

/// <summary>Resource limits a plan gives each instance.</summary>
public sealed record PlanLimits(int MemoryMb, int MaxConnections);

namespace Steward.Catalog;

/// <summary>OSB maintenance_info: the version of what an instance of the plan runs.</summary>
public sealed record MaintenanceInfo(string Version, string Description);

namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>A provisioned instance several tests use without changing it.</summary>
public sealed record SharedInstance(string Id, string ServiceId, string PlanId, string ProvisionOperation);

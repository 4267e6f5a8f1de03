namespace Steward.Supervision;

/// <summary>An instance's health as the user sees it.</summary>
public sealed record InstanceHealth(string InstanceId, HealthStatus Status, DateTimeOffset? LastCheck, string Detail)
{
    public int ConsecutiveFailures { get; init; }

    public string? OpenIncidentId { get; init; }
}

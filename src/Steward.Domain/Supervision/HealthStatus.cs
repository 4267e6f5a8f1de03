namespace Steward.Supervision;

/// <summary>What the latest protocol-level check found.</summary>
public enum HealthStatus
{
    /// <summary>No check has completed yet.</summary>
    Unknown,

    Healthy,

    /// <summary>Failing checks or a dead process; the supervisor is acting.</summary>
    Unhealthy,

    /// <summary>Quarantined after a failure a restart cannot fix, or a crash loop.</summary>
    Failed,
}

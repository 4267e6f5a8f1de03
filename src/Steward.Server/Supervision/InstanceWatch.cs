using Steward.Catalog;
using Steward.Supervision;

namespace Steward.Server.Supervision;

/// <summary>What the supervisor remembers about one instance between checks.</summary>
internal sealed class InstanceWatch(HealthCheckPolicy policy, TimeProvider time)
{
    public HealthCheckPolicy Policy { get; } = policy;

    public RestartBudget Budget { get; } = new(policy, time);

    public DateTimeOffset NextCheck { get; set; }

    public int Busy;

    public int ConsecutiveFailures { get; set; }

    /// <summary>When the supervisor last started the server; null when it found it running.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>True from a start until its first successful check.</summary>
    public bool AwaitingFirstHealthy { get; set; }

    /// <summary>The configuration of this start has been kept as the last healthy one.</summary>
    public bool SnapshotTaken { get; set; }

    public string? OpenIncidentId { get; set; }

    /// <summary>The server was found stopped and continued; its next successful check resolves the incident.</summary>
    public bool Continued { get; set; }

    /// <summary>When a scheduled restart is due; null when none is scheduled.</summary>
    public DateTimeOffset? RestartDue { get; set; }

    public InstanceHealth Health { get; set; } = default!;
}

namespace Steward.Catalog;

/// <summary>How often and how strictly instances of a plan are checked, and how restarts are budgeted.</summary>
public sealed record HealthCheckPolicy
{
    /// <summary>Time between protocol-level checks.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one check may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Consecutive failed checks of a running process before it is declared unhealthy.</summary>
    public int FailureThreshold { get; init; } = 3;

    /// <summary>At most this many restarts within <see cref="RestartWindow"/> (pg_auto_failover: 5 in 300 s).</summary>
    public int MaxRestarts { get; init; } = 5;

    public TimeSpan RestartWindow { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>First delay before a restart; doubled for each further restart in the window.</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A start that does not live this long before failing again is a quick death.</summary>
    public TimeSpan MinUptime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a restarted server may take to answer its first check.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

using System.ComponentModel.DataAnnotations;
using Steward.Catalog;

namespace Steward.Server.Configuration;

/// <summary>
/// Operator overrides of the plans' health-check and restart policies (docs/supervision.md). Unset values
/// keep the plan's.
/// </summary>
[SettingsSection("Supervision")]
public sealed record SupervisionOverrides
{
    [Setting("STEWARD_HEALTH_INTERVAL_MS", "time between health checks", Default = "the plan's (5000)")]
    [Range(10, int.MaxValue)]
    public int? HealthIntervalMs { get; init; }

    [Setting("STEWARD_HEALTH_TIMEOUT_MS", "one health check's timeout", Default = "the plan's (3000)")]
    [Range(10, int.MaxValue)]
    public int? HealthTimeoutMs { get; init; }

    [Setting("STEWARD_HEALTH_FAILURES", "failed checks in a row before a running process is unhealthy", Default = "the plan's (3)")]
    [Range(1, int.MaxValue)]
    public int? HealthFailures { get; init; }

    [Setting("STEWARD_RESTART_LIMIT", "restarts allowed within the window", Default = "the plan's (5)")]
    [Range(0, int.MaxValue)]
    public int? RestartLimit { get; init; }

    [Setting("STEWARD_RESTART_WINDOW_MS", "the sliding window of the restart budget", Default = "the plan's (300000)")]
    [Range(0, int.MaxValue)]
    public int? RestartWindowMs { get; init; }

    [Setting("STEWARD_RESTART_BACKOFF_MS", "first backoff before a restart, doubled per restart in the window", Default = "the plan's (1000)")]
    [Range(0, int.MaxValue)]
    public int? RestartBackoffMs { get; init; }

    [Setting("STEWARD_RESTART_BACKOFF_MAX_MS", "the backoff's cap", Default = "the plan's (60000)")]
    [Range(0, int.MaxValue)]
    public int? RestartBackoffMaxMs { get; init; }

    [Setting("STEWARD_MIN_UPTIME_MS", "healthy time after a restart before an incident is resolved", Default = "the plan's (10000)")]
    [Range(0, int.MaxValue)]
    public int? MinUptimeMs { get; init; }

    [Setting("STEWARD_STARTUP_TIMEOUT_MS", "time a restarted server has to pass its first check", Default = "the plan's (60000)")]
    [Range(0, int.MaxValue)]
    public int? StartupTimeoutMs { get; init; }

    public HealthCheckPolicy Apply(HealthCheckPolicy plan) => plan with
    {
        Interval = Milliseconds(HealthIntervalMs) ?? plan.Interval,
        Timeout = Milliseconds(HealthTimeoutMs) ?? plan.Timeout,
        FailureThreshold = HealthFailures ?? plan.FailureThreshold,
        MaxRestarts = RestartLimit ?? plan.MaxRestarts,
        RestartWindow = Milliseconds(RestartWindowMs) ?? plan.RestartWindow,
        BackoffBase = Milliseconds(RestartBackoffMs) ?? plan.BackoffBase,
        BackoffMax = Milliseconds(RestartBackoffMaxMs) ?? plan.BackoffMax,
        MinUptime = Milliseconds(MinUptimeMs) ?? plan.MinUptime,
        StartupTimeout = Milliseconds(StartupTimeoutMs) ?? plan.StartupTimeout,
    };

    private static TimeSpan? Milliseconds(int? ms) => ms is { } n ? TimeSpan.FromMilliseconds(n) : null;
}

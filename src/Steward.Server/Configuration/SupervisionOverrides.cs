using System.Globalization;
using Steward.Catalog;

namespace Steward.Server.Configuration;

/// <summary>
/// Operator overrides of the plans' health-check and restart policies, from environment variables:
/// STEWARD_HEALTH_INTERVAL_MS, STEWARD_HEALTH_TIMEOUT_MS, STEWARD_HEALTH_FAILURES, STEWARD_RESTART_LIMIT,
/// STEWARD_RESTART_WINDOW_MS, STEWARD_RESTART_BACKOFF_MS, STEWARD_RESTART_BACKOFF_MAX_MS,
/// STEWARD_MIN_UPTIME_MS, STEWARD_STARTUP_TIMEOUT_MS. Unset values keep the plan's.
/// </summary>
public sealed record SupervisionOverrides
{
    public TimeSpan? Interval { get; init; }

    public TimeSpan? Timeout { get; init; }

    public int? FailureThreshold { get; init; }

    public int? MaxRestarts { get; init; }

    public TimeSpan? RestartWindow { get; init; }

    public TimeSpan? BackoffBase { get; init; }

    public TimeSpan? BackoffMax { get; init; }

    public TimeSpan? MinUptime { get; init; }

    public TimeSpan? StartupTimeout { get; init; }

    public static SupervisionOverrides FromEnvironment() => new()
    {
        Interval = Milliseconds("STEWARD_HEALTH_INTERVAL_MS"),
        Timeout = Milliseconds("STEWARD_HEALTH_TIMEOUT_MS"),
        FailureThreshold = Count("STEWARD_HEALTH_FAILURES"),
        MaxRestarts = Count("STEWARD_RESTART_LIMIT"),
        RestartWindow = Milliseconds("STEWARD_RESTART_WINDOW_MS"),
        BackoffBase = Milliseconds("STEWARD_RESTART_BACKOFF_MS"),
        BackoffMax = Milliseconds("STEWARD_RESTART_BACKOFF_MAX_MS"),
        MinUptime = Milliseconds("STEWARD_MIN_UPTIME_MS"),
        StartupTimeout = Milliseconds("STEWARD_STARTUP_TIMEOUT_MS"),
    };

    public HealthCheckPolicy Apply(HealthCheckPolicy plan) => plan with
    {
        Interval = Interval ?? plan.Interval,
        Timeout = Timeout ?? plan.Timeout,
        FailureThreshold = FailureThreshold ?? plan.FailureThreshold,
        MaxRestarts = MaxRestarts ?? plan.MaxRestarts,
        RestartWindow = RestartWindow ?? plan.RestartWindow,
        BackoffBase = BackoffBase ?? plan.BackoffBase,
        BackoffMax = BackoffMax ?? plan.BackoffMax,
        MinUptime = MinUptime ?? plan.MinUptime,
        StartupTimeout = StartupTimeout ?? plan.StartupTimeout,
    };

    private static TimeSpan? Milliseconds(string name) => Count(name) is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    private static int? Count(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (value is null)
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ArgumentException($"{name}='{value}' is not a non-negative whole number");
    }
}

using System.Globalization;

namespace Steward.Server.HighAvailability;

/// <summary>
/// How highly available instances are watched and failed over. Environment variables:
/// STEWARD_HA_TICK_MS, STEWARD_HA_CHECK_TIMEOUT_MS, STEWARD_HA_FAILURES, STEWARD_HA_FAILOVER_LIMIT,
/// STEWARD_HA_FAILOVER_WINDOW_MS.
/// </summary>
public sealed record HaOptions
{
    /// <summary>How often every member is looked at: a dead primary is noticed within one tick.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a member may take to answer one check before the check counts as failed.</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>Failed checks in a row of a running primary (a hang) before it is fenced and a standby promoted.</summary>
    public int FailureThreshold { get; init; } = 2;

    /// <summary>At most this many failovers of one instance within <see cref="FailoverWindow"/>; then an incident, no promotion.</summary>
    public int FailoverLimit { get; init; } = 3;

    public TimeSpan FailoverWindow { get; init; } = TimeSpan.FromMinutes(10);

    public static HaOptions FromEnvironment()
    {
        var o = new HaOptions();
        return o with
        {
            Tick = Milliseconds("STEWARD_HA_TICK_MS") ?? o.Tick,
            CheckTimeout = Milliseconds("STEWARD_HA_CHECK_TIMEOUT_MS") ?? o.CheckTimeout,
            FailureThreshold = Count("STEWARD_HA_FAILURES") ?? o.FailureThreshold,
            FailoverLimit = Count("STEWARD_HA_FAILOVER_LIMIT") ?? o.FailoverLimit,
            FailoverWindow = Milliseconds("STEWARD_HA_FAILOVER_WINDOW_MS") ?? o.FailoverWindow,
        };
    }

    private static TimeSpan? Milliseconds(string name) => Count(name) is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    private static int? Count(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (value is null)
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name}='{value}' is not a positive whole number");
    }
}

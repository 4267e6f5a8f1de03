namespace Steward.Bench.Supervision;

/// <summary>
/// A supervision policy under test: the plan's production defaults, optionally overridden the way an operator
/// would, through STEWARD_* variables of the broker.
/// </summary>
internal sealed record Policy(string Name, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The supervisor's loop period (StewardOptions.SupervisorTick): checks start on a tick, not in between.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);

    public static Policy Production { get; } = new("production", new Dictionary<string, string>());

    public static Policy Tuned { get; } = new("tuned", new Dictionary<string, string>
    {
        ["STEWARD_HEALTH_INTERVAL_MS"] = "1000",
        ["STEWARD_HEALTH_TIMEOUT_MS"] = "1000",
    });

    // The production defaults of HealthCheckPolicy; an override replaces one of them.
    public TimeSpan Interval => Milliseconds("STEWARD_HEALTH_INTERVAL_MS", 5000);

    public TimeSpan Timeout => Milliseconds("STEWARD_HEALTH_TIMEOUT_MS", 3000);

    public int FailureThreshold => Count("STEWARD_HEALTH_FAILURES", 3);

    public int MaxRestarts => Count("STEWARD_RESTART_LIMIT", 5);

    public TimeSpan BackoffBase => Milliseconds("STEWARD_RESTART_BACKOFF_MS", 1000);

    public TimeSpan MinUptime => Milliseconds("STEWARD_MIN_UPTIME_MS", 10000);

    /// <summary>
    /// The latest a dead or stopped process can be noticed: the supervisor asks the runtime about every process at
    /// each tick, and otherwise the next check is at most one interval away; finding it gone or stopped takes no probe.
    /// </summary>
    public TimeSpan ExitBound => Interval + Tick;

    /// <summary>
    /// The latest a hung process can be declared unhealthy: up to one interval to the first failing check, then
    /// threshold − 1 further checks, each starting one interval after the previous one started or, when a check
    /// outlasts the interval, on the first tick after it timed out; the last one times out too.
    /// </summary>
    public TimeSpan HangBound =>
        Interval + ((FailureThreshold - 1) * Max(Interval, Timeout + Tick)) + Timeout + Tick;

    public string Describe() => Environment.Count == 0
        ? "no overrides: check every 5 s, 3 s timeout, 3 failures, 5 restarts / 300 s, backoff 1 s doubling, healthy 10 s to resolve"
        : string.Join(", ", Environment.Select(e => $"`{e.Key}={e.Value}`")) + ", everything else default";

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private TimeSpan Milliseconds(string name, int fallback) => TimeSpan.FromMilliseconds(Count(name, fallback));

    private int Count(string name, int fallback) =>
        Environment.TryGetValue(name, out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

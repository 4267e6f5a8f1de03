using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.HighAvailability;

/// <summary>How highly available instances are watched and failed over (docs/high-availability.md).</summary>
[SettingsSection("HighAvailability")]
public sealed record HaOptions
{
    [Setting("STEWARD_HA_TICK_MS", "how often every member of a highly available instance is looked at")]
    [Range(10, 60_000)]
    public int TickMs { get; init; } = 250;

    [Setting("STEWARD_HA_CHECK_TIMEOUT_MS", "one member check's time limit")]
    [Range(10, 60_000)]
    public int CheckTimeoutMs { get; init; } = 2000;

    [Setting("STEWARD_HA_FAILURES", "failed checks in a row of a running primary (a hang) before it is fenced and a standby promoted")]
    [Range(1, 100)]
    public int Failures { get; init; } = 2;

    [Setting("STEWARD_HA_FAILOVER_LIMIT", "failovers of one instance allowed within the window; then an incident, no promotion")]
    [Range(1, 10_000)]
    public int FailoverLimit { get; init; } = 3;

    [Setting("STEWARD_HA_FAILOVER_WINDOW_MS", "the window of the failover budget")]
    [Range(1000, int.MaxValue)]
    public int FailoverWindowMs { get; init; } = 600_000;

    /// <summary>How often every member is looked at: a dead primary is noticed within one tick.</summary>
    public TimeSpan Tick => TimeSpan.FromMilliseconds(TickMs);

    /// <summary>How long a member may take to answer one check before the check counts as failed.</summary>
    public TimeSpan CheckTimeout => TimeSpan.FromMilliseconds(CheckTimeoutMs);

    /// <summary>Failed checks in a row of a running primary before failover.</summary>
    public int FailureThreshold => Failures;

    public TimeSpan FailoverWindow => TimeSpan.FromMilliseconds(FailoverWindowMs);
}

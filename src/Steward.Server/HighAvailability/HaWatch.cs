using System.Collections.Concurrent;

namespace Steward.Server.HighAvailability;

/// <summary>What the controller remembers of one highly available instance between ticks (rebuilt from the servers after a restart).</summary>
internal sealed class HaWatch
{
    public int Busy;

    /// <summary>False until the view recorded in the state store was checked against the servers themselves.</summary>
    public bool Verified { get; set; }

    public int PrimaryFailures { get; set; }

    public ConcurrentDictionary<string, int> StandbyFailures { get; } = new();

    /// <summary>The highest WAL position a synchronous standby confirmed flushed: no acknowledged commit lies beyond the standbys' reach below it.</summary>
    public ulong AcknowledgedLsn { get; set; }

    /// <summary>The primary's flush position at its last successful check.</summary>
    public ulong? PrimaryLsn { get; set; }

    public long Timeline { get; set; }

    /// <summary>Set when a failover was refused (no eligible standby, budget spent): nothing is promoted until an operator acts.</summary>
    public string? Blocked { get; set; }

    public DateTimeOffset NextBuildAt { get; set; }

    public int BuildFailures { get; set; }
}

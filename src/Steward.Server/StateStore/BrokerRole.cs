namespace Steward.Server.StateStore;

/// <summary>
/// Whether this broker is the active one (serves the API and runs the supervisor, the schedulers and the operations)
/// or a standby that waits for the lease. A broker alone on a SQLite store is active from the start.
/// </summary>
internal sealed class BrokerRole
{
    private volatile string? _activeHolder;
    private volatile bool _active;

    public BrokerRole(bool activeFromStart, TimeSpan leaseDuration)
    {
        _active = activeFromStart;
        RetryAfter = TimeSpan.FromSeconds(Math.Ceiling(leaseDuration.TotalSeconds / 5));
    }

    /// <summary>When a client refused by a standby should try again: a standby looks at the lease this often.</summary>
    public TimeSpan RetryAfter { get; }

    public bool IsActive => _active;

    /// <summary>"active" or "standby", as the index and the readiness endpoint say it.</summary>
    public string Name => _active ? "active" : "standby";

    /// <summary>The active broker as this standby last saw it (empty when none holds the lease).</summary>
    public string ActiveHolder => _activeHolder ?? string.Empty;

    public void BecomeActive() => _active = true;

    public void SawActive(string holder) => _activeHolder = holder;
}

namespace Steward.Supervision;

/// <summary>Where an incident stands.</summary>
public enum IncidentState
{
    /// <summary>The supervisor is acting (restarting within budget).</summary>
    Open,

    /// <summary>The instance is healthy again.</summary>
    Resolved,

    /// <summary>The instance is fenced: stopped, its files preserved for inspection, not restarted.</summary>
    Quarantined,
}

namespace Steward.HighAvailability;

/// <summary>What one member of a highly available instance is.</summary>
public enum MemberRole
{
    /// <summary>Accepts writes; the stable endpoint leads to it.</summary>
    Primary,

    /// <summary>Streams from the primary and may be promoted.</summary>
    Standby,

    /// <summary>Being cloned from the primary; not yet a standby (rebuilt from scratch after a broker crash).</summary>
    Building,

    /// <summary>
    /// Stopped for good and kept untouched for inspection: Steward never starts it again, whatever restarts.
    /// Its port slot is taken over by the member that replaces it.
    /// </summary>
    Fenced,
}

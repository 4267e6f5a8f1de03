namespace Steward.Instances;

/// <summary>Where an instance is in its life.</summary>
public enum InstanceState
{
    Provisioning,
    Ready,
    Failed,

    /// <summary>Fenced by the supervisor after a failure a restart cannot fix: stopped, files preserved, not restarted.</summary>
    Quarantined,
    Deprovisioning,
    Deleted,
}

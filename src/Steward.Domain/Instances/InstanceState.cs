namespace Steward.Instances;

/// <summary>Where an instance is in its life.</summary>
public enum InstanceState
{
    Provisioning,
    Ready,
    Failed,
    Deprovisioning,
    Deleted,
}

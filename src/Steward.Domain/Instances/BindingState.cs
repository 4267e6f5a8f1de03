namespace Steward.Instances;

/// <summary>Where a binding is in its life.</summary>
public enum BindingState
{
    Creating,
    Created,
    Deleting,
}

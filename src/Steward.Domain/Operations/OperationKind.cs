namespace Steward.Operations;

/// <summary>What an operation does.</summary>
public enum OperationKind
{
    Provision,
    Update,
    Deprovision,
    Bind,
    Unbind,
    Restore,
}

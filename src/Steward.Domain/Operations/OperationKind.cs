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

    /// <summary>Destroy and recreate an instance from scratch with a backup, keeping its identity and credentials.</summary>
    Rebuild,

    /// <summary>Replace only the damaged pages of a live PostgreSQL instance with a copy's at its exact point.</summary>
    Repair,
}

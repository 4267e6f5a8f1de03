using Steward.Backup.Filters.Age;

namespace Steward.Backup.Filters;

/// <summary>Key material supplied by the caller of a restore; never read from a manifest, never logged.</summary>
public sealed record RestoreKeyring
{
    /// <summary>age identities tried, in order, to decrypt <c>age</c> filtered backups.</summary>
    public IReadOnlyList<AgeIdentity> AgeIdentities { get; init; } = [];
}

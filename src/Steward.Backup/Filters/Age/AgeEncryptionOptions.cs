namespace Steward.Backup.Filters.Age;

/// <summary>Options of the age encryption filter.</summary>
public sealed record AgeEncryptionOptions
{
    /// <summary>Recipients every backup is encrypted to; any one of their identities can decrypt it.</summary>
    public required IReadOnlyList<AgeRecipient> Recipients { get; init; }

    internal void Validate()
    {
        if (Recipients is null || Recipients.Count == 0)
        {
            throw new ArgumentException("age encryption needs at least one recipient.", nameof(Recipients));
        }
    }
}

namespace Steward.Backup.Pipeline;

/// <summary>What to back up and how to describe it in the manifest.</summary>
public sealed record BackupRequest
{
    /// <summary>Identifier of this backup.</summary>
    public required string BackupId { get; init; }

    /// <summary>Identifier of the service instance backed up.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Engine name, free-form (for example <c>postgresql</c>).</summary>
    public required string Engine { get; init; }

    /// <summary>Server version, free-form (for example <c>17.2</c>).</summary>
    public string? ServerVersion { get; init; }

    /// <summary>Storage key of the data object; defaults to <c>{InstanceId}/{BackupId}</c>.</summary>
    public string? Key { get; init; }

    /// <summary>Extra manifest properties; a source's <see cref="IManifestContributor"/> properties are added to them.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    internal string DataKey => Key ?? $"{InstanceId}/{BackupId}";
}

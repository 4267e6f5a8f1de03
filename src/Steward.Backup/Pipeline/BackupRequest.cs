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

    /// <summary>
    /// When the first filter checksums its input (zstd), the plaintext is not hashed a second time: the manifest
    /// records <see cref="Integrity.ContentHasher.CompressionFrames"/> as its digest, and a restore relies on the
    /// decoder's checks (each frame's content checksum) and the size. It saves a pass over every plaintext byte in
    /// the backup and in the restore. For backups whose plaintext digest nothing else uses (base backups); WAL files
    /// keep theirs (the archive's de-duplication and the spool's checks compare it).
    /// </summary>
    public bool PlaintextCheckedByFrames { get; init; }

    internal string DataKey => Key ?? $"{InstanceId}/{BackupId}";
}

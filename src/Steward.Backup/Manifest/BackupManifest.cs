namespace Steward.Backup.Manifest;

/// <summary>
/// Describes one backup. Written next to the data object (key + <see cref="KeySuffix"/>) only after the data is
/// durable; a restore rebuilds its filter chain from <see cref="Filters"/>, not from current configuration.
/// </summary>
public sealed record BackupManifest
{
    /// <summary>Suffix appended to the data key to form the manifest key.</summary>
    public const string KeySuffix = ".manifest.json";

    /// <summary>Version of this manifest format.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Identifier of the backup.</summary>
    public required string BackupId { get; init; }

    /// <summary>Identifier of the service instance.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Engine name (free-form, supplied by the caller).</summary>
    public required string Engine { get; init; }

    /// <summary>Server version (free-form, supplied by the caller).</summary>
    public string? ServerVersion { get; init; }

    /// <summary>Name of the source plugin.</summary>
    public required string Source { get; init; }

    /// <summary>Storage key of the data object.</summary>
    public required string DataKey { get; init; }

    /// <summary>The filter chain in backup order, with each filter's parameters (never key material).</summary>
    public required IReadOnlyList<FilterSpec> Filters { get; init; }

    /// <summary>Plaintext size in bytes.</summary>
    public required long PlaintextBytes { get; init; }

    /// <summary>Stored size in bytes.</summary>
    public required long StoredBytes { get; init; }

    /// <summary>Lower-case hex SHA-256 of the plaintext.</summary>
    public required string PlaintextSha256 { get; init; }

    /// <summary>Lower-case hex SHA-256 of the stored object.</summary>
    public required string StoredSha256 { get; init; }

    /// <summary>When the backup started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When the data became durable.</summary>
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Engine-specific facts (for example start/stop LSN and timeline).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

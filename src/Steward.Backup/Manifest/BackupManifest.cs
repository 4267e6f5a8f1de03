using System.Text.Json.Serialization;
using Steward.Backup.Integrity;

namespace Steward.Backup.Manifest;

/// <summary>
/// Describes one backup. Written next to the data object (key + <see cref="KeySuffix"/>) only after the data is
/// durable; a restore rebuilds its filter chain from <see cref="Filters"/>, not from current configuration.
/// </summary>
public sealed record BackupManifest
{
    /// <summary>Suffix appended to the data key to form the manifest key.</summary>
    public const string KeySuffix = ".manifest.json";

    /// <summary>The plaintext digest as given (<see cref="PlaintextDigest"/>).</summary>
    private readonly string? _plaintextDigest;

    /// <summary>Version of this manifest format: 2 since the plaintext digest names its algorithm (BLAKE3), 1 before (SHA-256).</summary>
    public int FormatVersion { get; init; } = 2;

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

    /// <summary>
    /// Digest of the plaintext with its algorithm (<see cref="ContentHasher"/>): <c>blake3:&lt;hex&gt;</c>; for a manifest
    /// of format 1, <c>sha256:&lt;hex&gt;</c> from its <see cref="LegacyPlaintextSha256"/>; <c>zstd-frames:xxh64</c> when
    /// the first filter's zstd frames carry the plaintext's checksums (<see cref="ContentHasher.CompressionFrames"/>).
    /// </summary>
    public string PlaintextDigest
    {
        get => _plaintextDigest ?? (LegacyPlaintextSha256 is { } sha ? ContentHasher.Sha256 + ":" + sha : string.Empty);
        init => _plaintextDigest = value;
    }

    /// <summary>Lower-case hex SHA-256 of the plaintext, as manifests of format 1 recorded it; null in newer ones.</summary>
    [JsonPropertyName("plaintextSha256")]
    public string? LegacyPlaintextSha256 { get; init; }

    /// <summary>Lower-case hex SHA-256 of the stored object.</summary>
    public required string StoredSha256 { get; init; }

    /// <summary>When the backup started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When the data became durable.</summary>
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Engine-specific facts (for example start/stop LSN and timeline).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

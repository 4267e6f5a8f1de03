using Steward.Backup.Manifest;

namespace Steward.Backup.Pipeline;

/// <summary>The outcome of a backup or restore run. Failures are reported here rather than thrown.</summary>
public sealed record PipelineResult
{
    /// <summary>Whether the run completed and, for a backup, the object and its manifest are durable.</summary>
    public bool Succeeded => Failure is null;

    /// <summary>The first stage that failed; <c>null</c> on success.</summary>
    public PipelineFailure? Failure { get; init; }

    /// <summary>Storage key of the data object.</summary>
    public required string Key { get; init; }

    /// <summary>Plaintext bytes that went through the pipeline (source output, or sink input on restore).</summary>
    public long PlaintextBytes { get; init; }

    /// <summary>Bytes written to (or read from) the storage.</summary>
    public long StoredBytes { get; init; }

    /// <summary>Digest of the plaintext with its algorithm (<c>blake3:…</c>, Integrity.ContentHasher); <c>null</c> if the run did not get that far.</summary>
    public string? PlaintextDigest { get; init; }

    /// <summary>Lower-case hex SHA-256 of the stored bytes; <c>null</c> if the run did not get that far.</summary>
    public string? StoredSha256 { get; init; }

    /// <summary>Wall time of the run, measured with the pipeline's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The manifest written (backup) or read (restore); <c>null</c> when not available.</summary>
    public BackupManifest? Manifest { get; init; }
}

namespace Steward.Backups;

/// <summary>What Steward knows of one backup of one instance.</summary>
public sealed record BackupRecord
{
    public required string Id { get; init; }

    public required string InstanceId { get; init; }

    /// <summary>The service's catalog name (postgresql, redis).</summary>
    public required string Service { get; init; }

    /// <summary>The backup method (physical, logical, rdb).</summary>
    public required string Kind { get; init; }

    public required BackupState State { get; init; }

    /// <summary>The storage the object lives in (filesystem, s3) and its key there.</summary>
    public required string Storage { get; init; }

    public required string Key { get; init; }

    /// <summary>After a failure: the stage that failed (source, a filter, storage), its kind and why.</summary>
    public string? FailedStage { get; init; }

    public string? FailureKind { get; init; }

    public string? Message { get; init; }

    public long PlaintextBytes { get; init; }

    public long StoredBytes { get; init; }

    public string? PlaintextDigest { get; init; }

    public string? StoredSha256 { get; init; }

    /// <summary>The manifest as stored beside the data, once the backup succeeded.</summary>
    public string? ManifestJson { get; init; }

    public string? OriginatingIdentity { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }
}

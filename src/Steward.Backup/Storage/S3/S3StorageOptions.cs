namespace Steward.Backup.Storage.S3;

/// <summary>Options of the S3-compatible storage. <see cref="ToString"/> never shows the secret key.</summary>
public sealed record S3StorageOptions
{
    /// <summary>Minimum part size S3 accepts for all but the last part.</summary>
    public const int MinimumPartSize = 5 * 1024 * 1024;

    /// <summary>Endpoint URL, for example <c>https://s3.eu-central-1.amazonaws.com</c> or a MinIO/Ceph URL.</summary>
    public required Uri ServiceUrl { get; init; }

    /// <summary>Bucket name.</summary>
    public required string Bucket { get; init; }

    /// <summary>Optional key prefix inside the bucket (for example <c>backups/</c>).</summary>
    public string KeyPrefix { get; init; } = string.Empty;

    /// <summary>Access key id.</summary>
    public required string AccessKey { get; init; }

    /// <summary>Secret access key. Never logged.</summary>
    public required string SecretKey { get; init; }

    /// <summary>Signing region. Default <c>us-east-1</c>.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>), needed by most S3-compatible servers. Default true.</summary>
    public bool ForcePathStyle { get; init; } = true;

    /// <summary>Size of each multipart part and of each part buffer. Default 8 MiB, at least 5 MiB.</summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>Parts uploaded concurrently. Memory is about (this + 1) × <see cref="PartSize"/>. Default 2.</summary>
    public int MaxConcurrentParts { get; init; } = 2;

    /// <summary>Retries of a failed request by the SDK. Default 4.</summary>
    public int MaxErrorRetry { get; init; } = 4;

    /// <summary>Timeout of a single request. Default 5 minutes.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Bucket);
        ArgumentOutOfRangeException.ThrowIfLessThan(PartSize, MinimumPartSize, nameof(PartSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentParts, 1, nameof(MaxConcurrentParts));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxErrorRetry, nameof(MaxErrorRetry));
    }

    /// <summary>Describes the options without the secret key.</summary>
    public override string ToString() =>
        $"S3StorageOptions {{ ServiceUrl = {ServiceUrl}, Bucket = {Bucket}, KeyPrefix = {KeyPrefix}, AccessKey = {AccessKey}, SecretKey = ***, Region = {Region} }}";
}

using System.ComponentModel.DataAnnotations;
using Steward.Backup.Filters.Age;
using Steward.Server.Configuration;

namespace Steward.Server.Backups;

/// <summary>How backups are made and where they go (docs/backups.md).</summary>
[SettingsSection("Backup")]
internal sealed record BackupOptions : IValidatableObject
{
    [Setting("STEWARD_BACKUP_COMPRESSION", "compression of every backup")]
    [AllowedValues("zstd", "gzip", "none")]
    public string Compression { get; init; } = "zstd";

    [Setting("STEWARD_BACKUP_ZSTD_LEVEL", "zstd level")]
    [Range(1, 19)]
    public int ZstdLevel { get; init; } = 3;

    [Setting("STEWARD_BACKUP_POSTGRESQL_SOURCE", "what a PostgreSQL physical backup reads: the data directory itself between pg_backup_start and pg_backup_stop, every page's checksum verified as it is read (as pgBackRest does; where the broker shares the instance's files and the plan is not ha), or always pg_basebackup's stream (the server verifies the pages); both make the same tar with its WAL")]
    [AllowedValues("data-directory", "pg_basebackup")]
    public string PostgreSqlSource { get; init; } = "data-directory";

    [Setting("STEWARD_BACKUP_ENCRYPTION", "encryption of every backup: age, to the broker's own key and any extra recipients")]
    [AllowedValues("age", "none")]
    public string Encryption { get; init; } = "age";

    [Setting("STEWARD_BACKUP_RECIPIENTS", "extra age recipients every backup is also encrypted to, e.g. an offline disaster-recovery key", Allowed = "age1… public keys, comma separated")]
    public string? Recipients { get; init; }

    [Setting("STEWARD_BACKUP_IDENTITY_FILE", "the age identity file that opens backups (created on first start)", Default = "`<data>/backup-identity.txt`", Allowed = "a file path")]
    public string? IdentityFile { get; init; }

    [Setting("STEWARD_BACKUP_DIR", "filesystem storage: one directory per instance", Default = "`<data>/backups`", Allowed = "a directory path")]
    public string? Dir { get; init; }

    [Setting("STEWARD_BACKUP_S3_BUCKET", "when set, backups go to this bucket of S3-compatible storage instead of the filesystem", Allowed = "a bucket name")]
    public string? S3Bucket { get; init; }

    [Setting("STEWARD_BACKUP_S3_ENDPOINT", "the S3 endpoint (required with a bucket)", Allowed = "an http:// or https:// URL")]
    public string? S3Endpoint { get; init; }

    [Setting("STEWARD_BACKUP_S3_REGION", "the S3 region")]
    public string S3Region { get; init; } = "us-east-1";

    [Setting("STEWARD_BACKUP_S3_ACCESS_KEY_ID", "the S3 access key id (required with a bucket)")]
    public string? S3AccessKeyId { get; init; }

    [Setting("STEWARD_BACKUP_S3_SECRET_ACCESS_KEY", "the S3 secret key (required with a bucket)", Secret = true)]
    public string? S3SecretAccessKey { get; init; }

    [Setting("STEWARD_BACKUP_S3_PREFIX", "a key prefix inside the bucket")]
    public string S3Prefix { get; init; } = string.Empty;

    /// <summary>The extra recipients, parsed; only called once validated.</summary>
    public IEnumerable<AgeRecipient> ExtraRecipients() =>
        (Recipients ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(AgeRecipient.Parse);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? badRecipient = null;
        try
        {
            _ = ExtraRecipients().ToList();
        }
        catch (FormatException ex)
        {
            badRecipient = ex.Message.TrimEnd('.');
        }

        if (badRecipient is not null)
        {
            yield return new ValidationResult(badRecipient, [nameof(Recipients)]);
        }

        if (S3Bucket is null)
        {
            yield break;
        }

        if (!Uri.TryCreate(S3Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult(S3Endpoint is null ? "required with STEWARD_BACKUP_S3_BUCKET" : "not an http(s) URL", [nameof(S3Endpoint)]);
        }

        if (string.IsNullOrEmpty(S3AccessKeyId))
        {
            yield return new ValidationResult("required with STEWARD_BACKUP_S3_BUCKET", [nameof(S3AccessKeyId)]);
        }

        if (string.IsNullOrEmpty(S3SecretAccessKey))
        {
            yield return new ValidationResult("required with STEWARD_BACKUP_S3_BUCKET", [nameof(S3SecretAccessKey)]);
        }
    }

    public override string ToString() => $"BackupOptions {{ Compression = {Compression}, Encryption = {Encryption}, Storage = {(S3Bucket is null ? "filesystem" : "s3")} }}";
}

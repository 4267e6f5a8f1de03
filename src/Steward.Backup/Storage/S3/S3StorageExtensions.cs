using Steward.Backup.Pipeline;

namespace Steward.Backup.Storage.S3;

/// <summary>Registers the S3-compatible storage.</summary>
public static class S3StorageExtensions
{
    /// <summary>Stores backups in an S3-compatible bucket.</summary>
    public static BackupPipelineBuilder UseS3Storage(this BackupPipelineBuilder builder, S3StorageOptions options) =>
        builder.UseStorage(new S3Storage(options));

    /// <summary>Reads backups from an S3-compatible bucket.</summary>
    public static RestorePipelineBuilder UseS3Storage(this RestorePipelineBuilder builder, S3StorageOptions options) =>
        builder.UseStorage(new S3Storage(options));
}

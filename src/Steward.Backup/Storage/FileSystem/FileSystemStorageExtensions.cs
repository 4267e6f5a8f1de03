using Steward.Backup.Pipeline;

namespace Steward.Backup.Storage.FileSystem;

/// <summary>Registers the filesystem storage.</summary>
public static class FileSystemStorageExtensions
{
    /// <summary>Stores backups under a local directory.</summary>
    public static BackupPipelineBuilder UseFileSystemStorage(this BackupPipelineBuilder builder, FileSystemStorageOptions options) =>
        builder.UseStorage(new FileSystemStorage(options));

    /// <summary>Reads backups from a local directory.</summary>
    public static RestorePipelineBuilder UseFileSystemStorage(this RestorePipelineBuilder builder, FileSystemStorageOptions options) =>
        builder.UseStorage(new FileSystemStorage(options));
}

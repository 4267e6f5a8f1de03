using Steward.Backup.Pipeline;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Storage.S3;

namespace Steward.Server.Backups;

/// <summary>The one storage backups are written to and read from, as configured.</summary>
internal static class BackupStorageFactory
{
    public static IBackupStorage Create(BackupSettings settings, ILoggerFactory loggers) => settings.S3 is { } s3
        ? new S3Storage(s3, loggers.CreateLogger<S3Storage>())
        : new FileSystemStorage(settings.FileSystem!, loggers.CreateLogger<FileSystemStorage>());
}

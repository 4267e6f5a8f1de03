namespace Steward.Server.Backups.Schedules;

/// <summary>Log messages of scheduled backups and retention (event ids 61xx).</summary>
internal static partial class ScheduleLog
{
    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Scheduled backup {BackupId} of instance {InstanceId} started ({Reason})")]
    public static partial void Started(ILogger logger, string backupId, string instanceId, string reason);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "Scheduled backup {BackupId} of instance {InstanceId} failed: {Message}; {Next}")]
    public static partial void Failed(ILogger logger, string backupId, string instanceId, string message, string next);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Information, Message = "Scheduled backup of instance {InstanceId} skipped: {Reason}")]
    public static partial void Skipped(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Error, Message = "Backup scheduler tick failed")]
    public static partial void TickFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6110, Level = LogLevel.Information, Message = "Retention of instance {InstanceId}: deleting backup {BackupId} ({Reason})")]
    public static partial void Pruning(ILogger logger, string instanceId, string backupId, string reason);

    [LoggerMessage(EventId = 6111, Level = LogLevel.Warning, Message = "Deleting backup {BackupId} did not finish: {Reason}; it stays 'deleting' and is resumed at the next start")]
    public static partial void DeleteFailed(ILogger logger, string backupId, string reason);

    [LoggerMessage(EventId = 6112, Level = LogLevel.Information, Message = "Resumed the deletion of backup {BackupId}")]
    public static partial void DeleteResumed(ILogger logger, string backupId);

    [LoggerMessage(EventId = 6113, Level = LogLevel.Error, Message = "Retention of instance {InstanceId} failed")]
    public static partial void RetentionFailed(ILogger logger, string instanceId, Exception exception);
}

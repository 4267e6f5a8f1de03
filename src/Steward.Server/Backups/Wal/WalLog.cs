namespace Steward.Server.Backups.Wal;

/// <summary>Log messages of WAL archiving and point-in-time restore (event ids 7xxx). Never carries secrets.</summary>
internal static partial class WalLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "WAL file {Name} of instance {InstanceId} not archived: {Reason}")]
    public static partial void ArchiveFailed(ILogger logger, string instanceId, string name, string reason);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "WAL file {Name} of instance {InstanceId} could not be served for recovery: {Reason}")]
    public static partial void FetchFailed(ILogger logger, string instanceId, string name, string reason);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "WAL archiving of instance {InstanceId} is behind: {Detail}; incident {IncidentId}")]
    public static partial void Behind(ILogger logger, string instanceId, string detail, string incidentId);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "WAL archiving of instance {InstanceId} caught up; incident {IncidentId} resolved")]
    public static partial void CaughtUp(ILogger logger, string instanceId, string incidentId);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "Measuring WAL archiving of instance {InstanceId} failed: {Reason}")]
    public static partial void MonitorFailed(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Information, Message = "Pruned {Count} WAL files of instance {InstanceId} older than segment {Before}")]
    public static partial void Pruned(ILogger logger, string instanceId, int count, string before);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Information, Message = "WAL file {Name} of instance {InstanceId} offered again with another tail after its timeline's last record: identical up to {SwitchPoint}, acknowledged (another member's copy of the segment its timeline ended in)")]
    public static partial void EndOfTimelineCopy(ILogger logger, string instanceId, string name, string switchPoint);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Information, Message = "Removed the WAL spool of instance {InstanceId} left by a previous broker ({Files} files)")]
    public static partial void SpoolSwept(ILogger logger, string instanceId, int files);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Warning, Message = "WAL file {Name} fetched ahead for instance {InstanceId} cannot be used ({Reason}); it is read from storage again")]
    public static partial void SpoolReadAheadFailed(ILogger logger, string instanceId, string name, string reason);

    [LoggerMessage(EventId = 7010, Level = LogLevel.Warning, Message = "The spooled copy of WAL file {Name} for instance {InstanceId} is damaged (sha256 {Actual}…, archived {Expected}…); not served, read from storage again")]
    public static partial void SpoolCopyDamaged(ILogger logger, string instanceId, string name, string expected, string actual);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Information, Message = "Removed the WAL spool of instance {InstanceId} at {Directory} left by a previous broker ({Files} files)")]
    public static partial void InstanceSpoolSwept(ILogger logger, string instanceId, string directory, int files);
}

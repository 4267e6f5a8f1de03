namespace Steward.Server.HighAvailability;

/// <summary>Log messages of high availability, event ids 10xxx. Never carries credentials.</summary>
internal static partial class HaLog
{
    [LoggerMessage(EventId = 10001, Level = LogLevel.Warning, Message = "Instance {InstanceId}: primary {Member} failed ({Reason}); failing over")]
    public static partial void PrimaryFailed(ILogger logger, string instanceId, string member, string reason);

    [LoggerMessage(EventId = 10002, Level = LogLevel.Warning, Message = "Instance {InstanceId}: member {Member} fenced and preserved in {Path}")]
    public static partial void Fenced(ILogger logger, string instanceId, string member, string path);

    [LoggerMessage(EventId = 10003, Level = LogLevel.Warning, Message = "Instance {InstanceId}: promoted {Member} at {Lsn} on timeline {Timeline}")]
    public static partial void Promoted(ILogger logger, string instanceId, string member, string? lsn, long timeline);

    [LoggerMessage(EventId = 10004, Level = LogLevel.Error, Message = "Instance {InstanceId}: not failing over: {Reason}")]
    public static partial void NoFailover(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 10005, Level = LogLevel.Information, Message = "Instance {InstanceId}: standby {Member} built on port {Port}")]
    public static partial void StandbyBuilt(ILogger logger, string instanceId, string member, int port);

    [LoggerMessage(EventId = 10006, Level = LogLevel.Warning, Message = "Instance {InstanceId}: high-availability check failed")]
    public static partial void CheckFailed(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(EventId = 10007, Level = LogLevel.Warning, Message = "Instance {InstanceId}: the servers say {Member} is the primary; the recorded view is corrected")]
    public static partial void ViewCorrected(ILogger logger, string instanceId, string member);

    [LoggerMessage(EventId = 10008, Level = LogLevel.Information, Message = "Instance {InstanceId}: switched over from {From} to {To}")]
    public static partial void SwitchedOver(ILogger logger, string instanceId, string from, string to);

    [LoggerMessage(EventId = 10009, Level = LogLevel.Information, Message = "Instance {InstanceId}: restarting {Member} for new settings ({What})")]
    public static partial void RollingRestart(ILogger logger, string instanceId, string member, string what);
}

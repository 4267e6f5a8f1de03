namespace Steward.Server.Logging;

/// <summary>
/// Every log message of the server, with event ids grouped by subsystem: 1xxx HTTP, 3xxx operations,
/// 4xxx recovery, 5xxx supervision, 6xxx backups, 7xxx observability. Messages never carry credentials.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    public static partial void UnhandledRequestFailure(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Steward broker listening on {Url}; data in {DataDir}; broker credentials in {CredentialsSource}")]
    public static partial void Listening(ILogger logger, string url, string dataDir, string credentialsSource);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Service {Service} is left out of the catalog: {Reason}")]
    public static partial void EngineUnavailable(ILogger logger, string service, string reason);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Operation {OperationId} ({Kind}) on instance {InstanceId}: {Description}")]
    public static partial void OperationStep(ILogger logger, string operationId, string kind, string instanceId, string description);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Operation {OperationId} ({Kind}) on instance {InstanceId} succeeded")]
    public static partial void OperationSucceeded(ILogger logger, string operationId, string kind, string instanceId);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Operation {OperationId} ({Kind}) on instance {InstanceId} failed: {Description}")]
    public static partial void OperationFailed(ILogger logger, string operationId, string kind, string instanceId, string description, Exception? exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Operation {OperationId} ({Kind}) on instance {InstanceId} interrupted by shutdown at step {Step}; it resumes at the next start")]
    public static partial void OperationInterrupted(ILogger logger, string operationId, string kind, string instanceId, string? step);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Instance {InstanceId}: port {Taken} was taken by another process before the server could bind it; starting on port {Port}")]
    public static partial void PortTakenAtStart(ILogger logger, string instanceId, int taken, int port);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Resuming operation {OperationId} ({Kind}) on instance {InstanceId} after step {Step}")]
    public static partial void Resuming(ILogger logger, string operationId, string kind, string instanceId, string? step);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Instance {InstanceId} still runs as pid {Pid}; adopted")]
    public static partial void Adopted(ILogger logger, string instanceId, int pid);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Instance {InstanceId} is not running ({Status}); the supervisor will classify and act")]
    public static partial void FoundDown(ILogger logger, string instanceId, string status);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Removed {Count} password directories left in the temporary directory by processes that no longer run")]
    public static partial void SecretDirectoriesSwept(ILogger logger, int count);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "Instance {InstanceId} could not be adopted")]
    public static partial void RestartFailed(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Instance {InstanceId}: {Class} detected: {Evidence}")]
    public static partial void FailureDetected(ILogger logger, string instanceId, string @class, string evidence);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Instance {InstanceId}: restart {Attempt} of {Limit} in {Delay}")]
    public static partial void RestartScheduled(ILogger logger, string instanceId, int attempt, int limit, TimeSpan delay);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Instance {InstanceId} quarantined: {Reason}; files kept in {Path}")]
    public static partial void Quarantined(ILogger logger, string instanceId, string reason, string path);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Instance {InstanceId} healthy again; incident {IncidentId} resolved")]
    public static partial void Recovered(ILogger logger, string instanceId, string incidentId);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "Instance {InstanceId}: pid {Pid} was found {State}; continued")]
    public static partial void Continued(ILogger logger, string instanceId, int pid, string state);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Instance {InstanceId}: data rescued before fencing: {What}")]
    public static partial void Rescued(ILogger logger, string instanceId, string what);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Error, Message = "Instance {InstanceId}: data could not be rescued before fencing: {Reason}")]
    public static partial void RescueFailed(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Information, Message = "Instance {InstanceId}: health check failed ({Failures} in a row): {Problem}")]
    public static partial void CheckFailed(ILogger logger, string instanceId, int failures, string problem);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "Supervising instance {InstanceId} failed")]
    public static partial void SupervisionFailed(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Backup {BackupId} of instance {InstanceId}: {State} {FailedStage} {Message}")]
    public static partial void BackupFinished(ILogger logger, string backupId, string instanceId, string state, string? failedStage, string? message);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Observing state write {Method} failed; metrics and events may lag until the next write")]
    public static partial void ObserverFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Backup {BackupId}: what its interrupted write left in storage could not be removed: {Reason}")]
    public static partial void CleanupFailed(ILogger logger, string backupId, string reason);
}

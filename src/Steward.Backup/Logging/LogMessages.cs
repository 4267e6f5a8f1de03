using Microsoft.Extensions.Logging;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Logging;

/// <summary>
/// All log messages of the backup pipeline. Event ids: 1000-1099 pipeline, 1100-1199 storage, 1200-1299 processes.
/// No message takes key material, passwords or environment values.
/// </summary>
internal static partial class LogMessages
{
    [LoggerMessage(1000, LogLevel.Information, "Backup of '{Key}' started: source {Source}, {FilterCount} filters, storage {Storage}")]
    public static partial void BackupStarted(ILogger logger, string key, string source, int filterCount, string storage);

    [LoggerMessage(1001, LogLevel.Information, "Backup of '{Key}' finished: succeeded {Succeeded}, {PlaintextBytes} bytes in, {StoredBytes} bytes stored, {Duration}")]
    public static partial void BackupFinished(ILogger logger, string key, bool succeeded, long plaintextBytes, long storedBytes, TimeSpan duration);

    [LoggerMessage(1002, LogLevel.Warning, "Stage {Stage} ({Kind}) failed with {Code}: {Message}")]
    public static partial void StageFailed(ILogger logger, string stage, StageKind kind, string code, string message);

    [LoggerMessage(1003, LogLevel.Warning, "A cancellation callback failed")]
    public static partial void CancellationCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(1004, LogLevel.Information, "Restore of '{Key}' started: {FilterCount} filters, sink {Sink}")]
    public static partial void RestoreStarted(ILogger logger, string key, int filterCount, string sink);

    [LoggerMessage(1005, LogLevel.Information, "Restore of '{Key}' finished: succeeded {Succeeded}, {PlaintextBytes} bytes restored, {Duration}")]
    public static partial void RestoreFinished(ILogger logger, string key, bool succeeded, long plaintextBytes, TimeSpan duration);

    [LoggerMessage(1006, LogLevel.Error, "Could not remove '{Key}' after a failed backup")]
    public static partial void CleanupFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(1100, LogLevel.Debug, "Committed '{Key}' ({Bytes} bytes) to {Storage}")]
    public static partial void ObjectCommitted(ILogger logger, string key, long bytes, string storage);

    [LoggerMessage(1101, LogLevel.Information, "Aborted partial object '{Key}' in {Storage}")]
    public static partial void ObjectAborted(ILogger logger, string key, string storage);

    [LoggerMessage(1102, LogLevel.Warning, "Could not abort partial object '{Key}' in {Storage}")]
    public static partial void AbortFailed(ILogger logger, string key, string storage, Exception exception);

    [LoggerMessage(1200, LogLevel.Debug, "Started process {Stage} ({FileName}), pid {ProcessId}")]
    public static partial void ProcessStarted(ILogger logger, string stage, string fileName, int processId);

    [LoggerMessage(1201, LogLevel.Debug, "Process {Stage} exited with code {ExitCode}")]
    public static partial void ProcessExited(ILogger logger, string stage, int exitCode);

    [LoggerMessage(1300, LogLevel.Information, "Unpacked {Files} files ({Bytes} bytes) into {Directory}")]
    public static partial void Unpacked(ILogger logger, string directory, int files, long bytes);
}

namespace Steward.Backup.Pipeline;

/// <summary>A progress report of a running pipeline, suitable for drawing a progress bar.</summary>
/// <param name="Stage">The stage reporting (the storage on backup, the sink side on restore).</param>
/// <param name="PlaintextBytes">Plaintext bytes so far.</param>
/// <param name="StoredBytes">Stored bytes so far.</param>
/// <param name="TotalStoredBytes">Expected total stored bytes when known (restore), otherwise <c>null</c>.</param>
public sealed record PipelineProgress(string Stage, long PlaintextBytes, long StoredBytes, long? TotalStoredBytes);

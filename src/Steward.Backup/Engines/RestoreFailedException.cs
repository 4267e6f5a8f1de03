using Steward.Backup.Pipeline;

namespace Steward.Backup.Engines;

/// <summary>A restore pipeline failed; <see cref="Failure"/> names the stage.</summary>
public sealed class RestoreFailedException(PipelineFailure failure)
    : BackupException(failure.Code, $"restore failed at stage '{failure.Stage}' ({failure.Kind.ToString().ToLowerInvariant()}): {failure.Message}")
{
    public PipelineFailure Failure { get; } = failure;
}

namespace Steward.Backup.Pipeline;

/// <summary>Why a pipeline run failed: the first stage that failed, not the stages stopped because of it.</summary>
/// <param name="Stage">Name of the failed stage (for example <c>pg_dump</c>, <c>age</c>, <c>s3</c>).</param>
/// <param name="Kind">The kind of failure.</param>
/// <param name="Message">A message safe to show and log: never contains key material or environment values.</param>
/// <param name="Code">Machine-readable code of the error (see <see cref="BackupException.Code"/>).</param>
public sealed record PipelineFailure(string Stage, StageKind Kind, string Message, string Code);

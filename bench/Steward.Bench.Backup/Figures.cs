using System.Text.Json;

namespace Steward.Bench.Backup;

/// <summary>Everything one run measured; saved as JSON so the report can be rendered again without re-measuring.</summary>
internal sealed record Figures(
    int Scale,
    int Repeat,
    DateTimeOffset Date,
    double RunMinutes,
    MachineInfo Machine,
    string LoadAfter,
    long DatabaseBytes,
    long ClusterBytes,
    double LoadSeconds,
    string PipelineCommand,
    List<StewardRuns.BackupResult> StewardBackups,
    List<StewardRuns.RestoreResult> StewardRestores,
    List<ShellRuns.PipelineResult> Pipelines,
    List<List<ShellRuns.StageResult>> Stages,
    List<PgBackRest.Result> PgBackRest,
    string? PgBackRestError,
    List<double>? RestorePipelineSeconds = null)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { IncludeFields = true, WriteIndented = true };
}

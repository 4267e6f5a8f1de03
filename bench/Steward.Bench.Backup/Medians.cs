namespace Steward.Bench.Backup;

/// <summary>The median run of each series (by wall time), so one row's figures all come from the same run.</summary>
internal sealed record Medians(
    long Plaintext,
    StewardRuns.BackupResult Steward,
    StewardRuns.RestoreResult Restore,
    ShellRuns.PipelineResult? Pipeline,
    PgBackRest.Result? PgBackRest,
    IReadOnlyList<ShellRuns.StageResult> Stages)
{
    private static readonly string[] PipelineStages = ["pg_basebackup", "zstd -3", "age"];

    public ShellRuns.StageResult Slowest => Stages.Where(s => PipelineStages.Contains(s.Name)).MaxBy(s => s.Time.WallSeconds)!;

    public double StageSum => Stages.Where(s => PipelineStages.Contains(s.Name)).Sum(s => s.Time.WallSeconds);

    public double StageCpuSum => Stages.Where(s => PipelineStages.Contains(s.Name)).Sum(s => s.Time.CpuSeconds);

    public ShellRuns.StageResult Stage(string name) => Stages.First(s => s.Name == name);

    public static Medians Of(Figures f) => new(
        Median(f.StewardBackups.Select(b => b.PlaintextBytes).ToList(), b => b),
        Median(f.StewardBackups, b => b.WallSeconds),
        Median(f.StewardRestores, r => r.WallSeconds),
        f.Pipelines.Count == 0 ? null : Median(f.Pipelines, p => p.Backup.WallSeconds),
        f.PgBackRest.Count == 0 ? null : Median(f.PgBackRest, p => p.Backup.WallSeconds),
        f.Stages.SelectMany(s => s).GroupBy(s => s.Name).Select(g => Median(g.ToList(), s => s.Time.WallSeconds)).ToList());

    public static T Median<T>(IReadOnlyList<T> items, Func<T, double> by) => items.OrderBy(by).ElementAt((items.Count - 1) / 2);
}

namespace Steward.Bench.Backup;

/// <summary>The parts of the report that judge the figures: the targets, where the time goes, every run.</summary>
internal static partial class Report
{
    private static void Targets(Figures f, Medians m, Action<string> L)
    {
        var shell = m.Pipeline?.Backup.WallSeconds ?? double.NaN;
        var slowest = m.Slowest.Time.WallSeconds;
        var quarters = f.StewardBackups.Select(b => b.RssByProgress.Where(q => q.Rss > 0).Select(q => q.Rss).ToList()).Where(q => q.Count >= 2).ToList();
        var drift = quarters.Count == 0 ? (long?)null : quarters.Max(q => q[^1] - q[0]);
        string Met(bool ok) => ok ? "**met**" : "**not met**";
        L("### Targets");
        L("");
        L($"- No slower than the shell pipeline: Steward {m.Steward.WallSeconds:F2} s vs {shell:F2} s = {m.Steward.WallSeconds / shell:F2}× → {Met(m.Steward.WallSeconds <= shell)}.");
        L($"- Within 10 % of the slowest stage alone ({m.Slowest.Name}, {slowest:F2} s): {m.Steward.WallSeconds / slowest:F2}× → {Met(m.Steward.WallSeconds <= slowest * 1.10)}.");
        L($"- Memory growth bounded regardless of database size: peak growth {Mb(m.Steward.RssGrowth)} for {Mb(m.Plaintext)} of data"
            + (drift is { } d ? $"; between the first and the last quarter of the data the highest RSS moved by at most {Mb(d)} in any run" : string.Empty)
            + $" → {Met(m.Steward.RssGrowth < 256e6 && (drift ?? 0) < 32e6)} for this size (measured at one size; the flat per-quarter RSS is the evidence that it does not follow the data).");
        if (f.RestorePipelineSeconds is { Count: > 0 } streaming && m.Pipeline is { } shellRun && m.PgBackRest is { } pgbr)
        {
            var part = Medians.Median(streaming, x => x);
            L($"- Restore, streaming part ≤ 1.2× the shell restore and ≤ 0.8× pgBackRest's: {part:F2} s = {part / shellRun.Restore.WallSeconds:F2}× / {part / pgbr.Restore.WallSeconds:F2}× → {Met(part <= 1.2 * shellRun.Restore.WallSeconds && part <= 0.8 * pgbr.Restore.WallSeconds)}.");
            L($"- Restore, whole operation (stop, swap, start, health) ≤ pgBackRest's restore + 1 s: {m.Restore.WallSeconds:F2} s vs {pgbr.Restore.WallSeconds + 1:F2} s → {Met(m.Restore.WallSeconds <= pgbr.Restore.WallSeconds + 1)}.");
        }
        L("");
    }

    private static void Analysis(Figures f, Medians m, Action<string> L)
    {
        var zstd = m.Stage("zstd -3");
        var age = m.Stage("age");
        var pg = m.Stage("pg_basebackup");
        var single = m.Stages.FirstOrDefault(s => s.Name.StartsWith("zstd -3, one thread", StringComparison.Ordinal));
        L("### Where the time goes");
        L("");
        L($"- **CPU.** Steward used {m.Steward.CpuSeconds:F2} s CPU for the backup, the broker {m.Steward.BrokerCpu:F2} s of it — reading the data files, verifying every page's checksum, the tar, zstd (with its frames' checksums), age, the stored SHA-256 digest and the file write in one process — where the shell pipeline's `pg_basebackup` alone takes {pg.Time.CpuSeconds:F2} s (its server's walsender not counted). The same zstd and age as CLIs alone take {zstd.Time.CpuSeconds:F2} s + {age.Time.CpuSeconds:F2} s = {zstd.Time.CpuSeconds + age.Time.CpuSeconds:F2} s; the shell pipeline in total {m.Pipeline?.Backup.CpuSeconds:F2} s.");
        L($"- **Cores.** This machine has {f.Machine.Cores} cores. The shell pipeline's stages alone add up to {m.StageCpuSum:F2} s CPU and {m.StageSum:F2} s wall; a pipeline on {f.Machine.Cores} cores cannot finish faster than CPU / cores = {m.StageCpuSum / f.Machine.Cores:F2} s however well it overlaps, and Steward needs {m.Steward.CpuSeconds / f.Machine.Cores:F2} s by the same bound.");
        if (single is not null)
        {
            L($"- **zstd threading.** `zstd -T1` compresses on a worker thread while its main thread reads and writes: {zstd.Time.WallSeconds:F2} s wall, {zstd.Time.CpuSeconds:F2} s CPU. With compression and I/O on one thread (`--single-thread`, what an in-process streaming binding does per call) it takes {single.Time.WallSeconds:F2} s wall, {single.Time.CpuSeconds:F2} s CPU.");
        }

        L($"- **Output.** Steward {Mb(m.Steward.StoredBytes)}, shell pipeline {(m.Pipeline is { } p ? Mb(p.OutputBytes) : "–")}, pgBackRest {(m.PgBackRest is { } g ? Mb(g.OutputBytes) : "–")} (pgBackRest compresses each file separately and, without WAL archiving, stores no WAL; `pg_basebackup -X fetch` includes the WAL needed for consistency).");
        if (f.PgBackRestError is { } error)
        {
            L($"- **pgBackRest failed** here: `{error.Replace('\n', ' ').Replace("`", "'", StringComparison.Ordinal)}`");
        }

        foreach (var line in Notes)
        {
            L(line);
        }

        L("");
    }

    private static void Runs(Figures f, Action<string> L)
    {
        L("<details><summary>Every run</summary>");
        L("");
        L("| run | Steward backup wall / API / CPU / RSS growth | Steward restore wall / API / CPU | shell backup wall / CPU | shell restore wall / CPU | pgBackRest backup wall / CPU | pgBackRest restore wall / CPU | stages wall: pg_basebackup / zstd / age / zstd single-thread |");
        L("|---|---|---|---|---|---|---|---|");
        for (var i = 0; i < f.StewardBackups.Count; i++)
        {
            var b = f.StewardBackups[i];
            var r = i < f.StewardRestores.Count ? f.StewardRestores[i] : null;
            var p = i < f.Pipelines.Count ? f.Pipelines[i] : null;
            var g = i < f.PgBackRest.Count ? f.PgBackRest[i] : null;
            var s = i < f.Stages.Count ? string.Join(" / ", f.Stages[i].Select(x => x.Time.WallSeconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture))) : "–";
            L($"| {i + 1} | {b.WallSeconds:F2} / {b.ApiSeconds:F2} / {b.CpuSeconds:F2} / {Mb(b.RssGrowth)} | {(r is null ? "–" : $"{r.WallSeconds:F2} / {r.ApiSeconds:F2} / {r.CpuSeconds:F2}")} | {(p is null ? "–" : $"{p.Backup.WallSeconds:F2} / {p.Backup.CpuSeconds:F2}")} | {(p is null ? "–" : $"{p.Restore.WallSeconds:F2} / {p.Restore.CpuSeconds:F2}")} | {(g is null ? "–" : $"{g.Backup.WallSeconds:F2} / {g.Backup.CpuSeconds:F2}")} | {(g is null ? "–" : $"{g.Restore.WallSeconds:F2} / {g.Restore.CpuSeconds:F2}")} | {s} |");
        }

        L("");
        L("</details>");
        L("");
    }
}

using System.Globalization;
using System.Text;

namespace Steward.Bench.Backup;

/// <summary>Renders the figures as the backup section of docs/benchmarks.md.</summary>
internal static partial class Report
{
    public const string Start = "<!-- backup:start -->";
    public const string End = "<!-- backup:end -->";

    public static string Section(Figures f)
    {
        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');
        var m = Medians.Of(f);

        L(Start);
        L("## Backup: physical PostgreSQL backup and restore against the shell pipeline and pgBackRest");
        L();
        L($"Measured by `bench/Steward.Bench.Backup` on {f.Date:yyyy-MM-dd HH:mm} UTC in {f.RunMinutes:F1} min. It starts a real `steward-server` with");
        L("the integration-test harness, provisions one PostgreSQL 15 instance (plan `standalone-large`), binds it and loads it with");
        L($"`pgbench -i -I dtGvp -s {f.Scale}` through the binding ({f.LoadSeconds:F0} s): database `app` {Mb(f.DatabaseBytes)}, whole cluster {Mb(f.ClusterBytes)},");
        L($"`pg_basebackup`'s tar {Mb(m.Plaintext)} (the **data size** every MB/s below divides by). Then, {f.Repeat} times, in this order on the");
        L("same instance: each stage of the shell pipeline alone; **Steward**: `POST /api/v1/instances/{id}/backups` (`physical`:");
        L("the data directory read by the broker between `pg_backup_start` and `pg_backup_stop`, every page's checksum verified → zstd level 3 → age to the");
        L("broker's key → file system; the same tar as `pg_basebackup -Ft -X fetch`), polled every 50 ms through");
        L("`GET /api/v1/backups/{id}`, then `POST /api/v1/instances/{id}/restore` polled through `last_operation`; the **shell pipeline**");
        L($"`{f.PipelineCommand}` and its restore `age -d -i key | zstd -d | tar -x -C dir`; **pgBackRest** `backup --type=full`");
        L("(`compress-type=zst`, `compress-level=3`, `repo1-cipher-type=aes-256-cbc`, `process-max=1`, `start-fast=y`, `--archive-check=n`, as");
        L("the data directory's owner) and `restore` into an empty directory. Figures are the **median of the runs** (each run in the");
        L("table at the end).");
        L();
        L("**Wall** is this program's clock around the whole request (for Steward, from the POST to the poll that saw it finished;");
        L("the broker's own `duration_seconds` is beside it). **CPU** is user + system time: for the shell pipeline and pgBackRest");
        L("from GNU `time` (every process they waited for); for a Steward backup the broker's own CPU (`/proc/PID/stat`");
        L("utime + stime) plus the CPU of the children it reaped meanwhile (cutime + cstime: none since the broker reads the files itself); for a Steward restore");
        L("the broker's CPU (it unpacks the archive itself; no `tar` child), sampled every 50 ms (the reaped-children counter is unusable");
        L("there: restarting the server reaps its shim, which carries the old postmaster's lifetime CPU). The PostgreSQL server's own work is");
        L("counted for no tool: the walsender that streams to `pg_basebackup` in the shell pipeline, and for Steward the row counts it takes beside every");
        L("backup for restore rehearsals (`count(*)` of every table) and the checkpoint all tools ask for. **RSS** is the broker's `VmRSS`, sampled every 50 ms; growth is the peak during");
        L("the backup minus the median of 20 samples in the second before it.");
        L();

        L("### Backup");
        L();
        L("| tool | wall s | MB/s | CPU s | output | vs shell pipeline (wall) | vs pgBackRest (wall) |");
        L("|---|---|---|---|---|---|---|");
        var shell = m.Pipeline?.Backup.WallSeconds;
        var pgbr = m.PgBackRest?.Backup.WallSeconds;
        string Vs(double wall, double? reference) => reference is { } r ? $"{wall / r:F2}×" : "–";
        L($"| **Steward** (API: {m.Steward.ApiSeconds:F2} s) | **{m.Steward.WallSeconds:F2}** | {Rate(m.Plaintext, m.Steward.WallSeconds)} | {m.Steward.CpuSeconds:F2} ({m.Steward.BrokerCpu:F2} broker + {m.Steward.ChildrenCpu:F2} children) | {Mb(m.Steward.StoredBytes)} | **{Vs(m.Steward.WallSeconds, shell)}** | **{Vs(m.Steward.WallSeconds, pgbr)}** |");
        if (m.Pipeline is { } p)
        {
            L($"| shell pipeline | {p.Backup.WallSeconds:F2} | {Rate(m.Plaintext, p.Backup.WallSeconds)} | {p.Backup.CpuSeconds:F2} | {Mb(p.OutputBytes)} | 1.00× | {Vs(p.Backup.WallSeconds, pgbr)} |");
        }

        if (m.PgBackRest is { } g)
        {
            L($"| pgBackRest | {g.Backup.WallSeconds:F2} | {Rate(m.Plaintext, g.Backup.WallSeconds)} | {g.Backup.CpuSeconds:F2} | {Mb(g.OutputBytes)} | {Vs(g.Backup.WallSeconds, shell)} | 1.00× |");
        }
        else
        {
            L($"| pgBackRest | – | – | – | – | – | – |");
        }

        L();
        L("### Each stage alone");
        L();
        L("The tar written once to a file (in the page cache), each filter reading it and writing to `/dev/null`:");
        L();
        L("| stage | command | wall s | MB/s of data | CPU s |");
        L("|---|---|---|---|---|");
        foreach (var s in m.Stages)
        {
            var mark = s.Name == m.Slowest.Name ? " **(slowest)**" : string.Empty;
            L($"| {s.Name}{mark} | `{s.Command}` | {s.Time.WallSeconds:F2} | {Rate(m.Plaintext, s.Time.WallSeconds)} | {s.Time.CpuSeconds:F2} |");
        }

        L();
        L($"Sum of the three pipeline stages: {m.StageSum:F2} s wall, {m.StageCpuSum:F2} s CPU. Steward / slowest stage ({m.Slowest.Name}): **{m.Steward.WallSeconds / m.Slowest.Time.WallSeconds:F2}×**.");
        if (m.Stages.FirstOrDefault(s => s.Name.StartsWith("shell pipeline + ", StringComparison.Ordinal)) is { } equal)
        {
            L();
            L($"**Former work:** until c1d2fe7 Steward also computed a BLAKE3 digest of the plaintext for end-to-end integrity (its base backups are now checked by the zstd frames' own checksums); the shell pipeline doing that too " +
              $"(`tee >(b3sum)`, Debian's b3sum) takes {equal.Time.WallSeconds:F2} s wall, {equal.Time.CpuSeconds:F2} s CPU: Steward / shell pipeline with the same work = **{m.Steward.WallSeconds / equal.Time.WallSeconds:F2}×**.");
        }

        L();

        L("### Restore");
        L();
        L("| tool | what it does | wall s | MB/s | CPU s | vs shell pipeline | vs pgBackRest |");
        L("|---|---|---|---|---|---|---|");
        var shellRestore = m.Pipeline?.Restore.WallSeconds;
        var pgbrRestore = m.PgBackRest?.Restore.WallSeconds;
        L($"| **Steward** (API: {m.Restore.ApiSeconds:F2} s) | decrypt, decompress (every zstd frame's checksum verified), verify the stored SHA-256 and the plaintext's size, unpack beside the live data (in the broker), stop, swap, start and wait until the server answers | **{m.Restore.WallSeconds:F2}** | {Rate(m.Plaintext, m.Restore.WallSeconds)} | {m.Restore.CpuSeconds:F2} (broker{(m.Restore.TarCpu > 0 ? $" {m.Restore.BrokerCpu:F2} + `tar` {m.Restore.TarCpu:F2}" : "")}) | **{Vs(m.Restore.WallSeconds, shellRestore)}** | {Vs(m.Restore.WallSeconds, pgbrRestore)} |");
        if (m.Pipeline is { } pr)
        {
            L($"| shell pipeline | `age -d \\| zstd -d \\| tar -x` into an empty directory | {pr.Restore.WallSeconds:F2} | {Rate(m.Plaintext, pr.Restore.WallSeconds)} | {pr.Restore.CpuSeconds:F2} | 1.00× | {Vs(pr.Restore.WallSeconds, pgbrRestore)} |");
        }

        if (m.PgBackRest is { } gr)
        {
            L($"| pgBackRest | `restore` into an empty directory (no server start) | {gr.Restore.WallSeconds:F2} | {Rate(m.Plaintext, gr.Restore.WallSeconds)} | {gr.Restore.CpuSeconds:F2} | {Vs(gr.Restore.WallSeconds, shellRestore)} | 1.00× |");
        }

        if (f.RestorePipelineSeconds is { Count: > 0 } pipelineSeconds)
        {
            var inPipeline = Medians.Median(pipelineSeconds, x => x);
            L("");
            L($"Of Steward's restore, the streaming part (storage → age → zstd → unpack, with the digest checks beside it, from the broker's log line `Restore of … finished`) took **{inPipeline:F2} s** (median; runs: {string.Join(", ", pipelineSeconds.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}), {inPipeline / (m.Pipeline?.Restore.WallSeconds ?? double.NaN):F2}× the shell restore and {inPipeline / (m.PgBackRest?.Restore.WallSeconds ?? double.NaN):F2}× pgBackRest's restore; the rest of the operation (stop, swap, start, re-apply bindings, check) about {m.Restore.ApiSeconds - inPipeline:F2} s.");
        }

        L();
        L("### Steward's memory");
        L();
        L("| | idle RSS | peak RSS | growth (median of runs) | growth (max of runs) |");
        L("|---|---|---|---|---|");
        L($"| backup | {Mb(m.Steward.IdleRss)} | {Mb(m.Steward.PeakRss)} | **{Mb(m.Steward.RssGrowth)}** | {Mb(f.StewardBackups.Max(b => b.RssGrowth))} |");
        L($"| restore | {Mb(m.Restore.IdleRss)} | {Mb(m.Restore.PeakRss)} | {Mb(m.Restore.PeakRss - m.Restore.IdleRss)} | {Mb(f.StewardRestores.Max(r => r.PeakRss - r.IdleRss))} |");
        L();
        L("The broker's highest RSS while each quarter of the data streamed (from the progress the API reports), per backup run:");
        L();
        L("| run | 1st quarter | 2nd quarter | 3rd quarter | 4th quarter |");
        L("|---|---|---|---|---|");
        for (var i = 0; i < f.StewardBackups.Count; i++)
        {
            L($"| {i + 1} | {string.Join(" | ", f.StewardBackups[i].RssByProgress.Select(q => q.Rss == 0 ? "–" : Mb(q.Rss)))} |");
        }

        L();
        Targets(f, m, L);
        Analysis(f, m, L);
        Runs(f, L);
        L("### Machine and reproduction");
        L();
        L($"- {f.Machine.Cores} cores ({f.Machine.Cpu}), {f.Machine.Memory} memory, {f.Machine.Os}");
        L($"- .NET {f.Machine.Dotnet}; {f.Machine.Tools}");
        L($"- load average (1/5/15 min) before: {f.Machine.LoadAverage}, after: {f.LoadAfter}");
        L("- Reproduce (as root, from the repository root, after `dotnet build`; needs `postgresql-15`, `zstd`, `age`, `sqlite3`, `pgbackrest`):");
        L();
        L("  ```sh");
        L($"  dotnet run -c Release --project bench/Steward.Bench.Backup -- --scale {f.Scale} --repeat {f.Repeat} --write docs/benchmarks.md");
        L("  ```");
        L();
        L("  `--scale 10` is a quick run (about 150 MB). The figures are also saved to `/tmp/steward-bench-backup.json`; `--render FILE`");
        L("  renders the section again from them without measuring.");
        L(End);
        return sb.ToString();
    }

    public static Task WriteAsync(string path, string section, CancellationToken ct) => WriteAsync(path, section, Start, End, ct);

    /// <summary>Replaces the part of <paramref name="path"/> between the two markers (or appends it).</summary>
    public static async Task WriteAsync(string path, string section, string Start, string End, CancellationToken ct)
    {
        // Read just before writing: other benchmarks own the other sections of the same file.
        var text = File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : "# Benchmarks\n";
        var start = text.IndexOf(Start, StringComparison.Ordinal);
        var end = text.IndexOf(End, StringComparison.Ordinal);
        text = start >= 0 && end > start
            ? string.Concat(text.AsSpan(0, start), section.TrimEnd('\n'), text.AsSpan(end + End.Length))
            : text.TrimEnd('\n') + "\n\n" + section;
        await File.WriteAllTextAsync(path, text, ct);
    }

    private static string Mb(long bytes) => bytes >= 1e9 ? $"{bytes / 1e9:F2} GB" : $"{bytes / 1e6:F1} MB";

    private static string Rate(long bytes, double seconds) => (bytes / 1e6 / seconds).ToString("F0", CultureInfo.InvariantCulture);
}

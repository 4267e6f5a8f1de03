using System.Globalization;
using System.Text;

namespace Steward.Bench.Wal;

/// <summary>The benchmark's section of docs/benchmarks.md, between its own markers.</summary>
internal static class Report
{
    private const string Start = "<!-- wal:start -->";
    private const string End = "<!-- wal:end -->";

    public static string Section(Figures f)
    {
        var o = f.Options;
        var none = f.Series[0];
        var steward = f.Series[1];
        var pgbr = f.Series[2];
        var p = f.Pitr;
        var pgbrTotal = p.PgBackRestRestoreSeconds + p.PgBackRestRecoverySeconds;
        var s = new StringBuilder();
        s.AppendLine(Start);
        s.AppendLine("## WAL archiving and point-in-time restore: Steward vs pgBackRest");
        s.AppendLine();
        s.AppendLine(Inv($"Measured by `bench/Steward.Bench.Wal` on {f.Date:yyyy-MM-dd} (UTC) in {f.Minutes:F1} min, one run; {f.Machine.Cores} cores ({f.Machine.Cpu}), {f.Machine.Memory}, load {f.Machine.LoadAverage} before and {f.LoadAfter} after; {f.Machine.Tools}."));
        s.AppendLine(Inv($"One PostgreSQL instance of the `standalone-large` plan provisioned by a real `steward-server`, loaded with `pgbench -i -s {o.Scale}` ({f.DatabaseBytes / 1e6:F0} MB)."));
        s.AppendLine(Inv($"Each series runs `pgbench -M prepared -c {o.Clients} -j 2 -T {o.Seconds}` (TPC-B-like) on the same instance and data, with only `archive_command` changed (in `postgresql.auto.conf`, reloaded):"));
        s.AppendLine("`/bin/true` (PostgreSQL's documented way to archive nothing: `archive_mode` stays on, so the only difference is the command),");
        s.AppendLine("Steward's (`steward-wal push`: curl → broker → zstd 3 → age → filesystem, catalog row, then 200), and");
        s.AppendLine("pgBackRest 2.45 `archive-push` with `archive-async=y`, zstd 3, AES-256-CBC, `process-max=1`.");
        s.AppendLine("Archive lag is PostgreSQL's own bookkeeping: from a segment's `.ready` file appearing in `pg_wal/archive_status` to its `.done` (polled every 25 ms).");
        s.AppendLine(Inv($"This run: `dotnet run -c Release --project bench/Steward.Bench.Wal -- --scale {o.Scale} --seconds {o.Seconds} --clients {o.Clients} --wal-gb {o.WalGigabytes} --write docs/benchmarks.md` (as root, like the tests; needs `apt-get install pgbackrest`); a quick look: `-- --scale 5 --seconds 10 --wal-gb 0.1`."));
        s.AppendLine();
        s.AppendLine("| archive_command | TPS | TPS vs no archiving | WAL written | segments | lag p50 | lag p99 | lag max | drained after the run |");
        s.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var x in f.Series)
        {
            s.AppendLine(Inv($"| {x.Name} | {x.Tps:F0} | {x.Tps / none.Tps:F3}× | {x.WalBytes / 1e6:F0} MB | {x.Lags.Count} | {Stats.Percentile(x.Lags, 50):F2} s | {Stats.Percentile(x.Lags, 99):F2} s | {(x.Lags.Count == 0 ? double.NaN : x.Lags[^1]):F2} s | {x.DrainSeconds:F1} s |"));
        }

        s.AppendLine();
        s.AppendLine(Inv($"Steward / pgBackRest: TPS **{steward.Tps / pgbr.Tps:F3}×**, lag p50 **{Stats.Percentile(steward.Lags, 50) / Stats.Percentile(pgbr.Lags, 50):F2}×**, lag p99 **{Stats.Percentile(steward.Lags, 99) / Stats.Percentile(pgbr.Lags, 99):F2}×**. TPS loss from Steward's archiving: **{(1 - (steward.Tps / none.Tps)) * 100:F1} %** (target ≤ 5 %); lag p99 {Stats.Percentile(steward.Lags, 99):F2} s (target ≤ 5 s with healthy storage)."));
        s.AppendLine();
        s.AppendLine("### Point-in-time restore over the same WAL");
        s.AppendLine();
        s.AppendLine(Inv($"With `archive_command` running both tools (Steward's helper, then pgBackRest's `archive-push`), each takes a base backup of the same moment, then `pgbench -N` writes {p.WalBytes / 1e9:F2} GB of WAL, a marker row is committed and its commit time is the target."));
        s.AppendLine("Steward: `POST /api/v1/instances/{id}/point-in-time-restore {to_time}` until the operation succeeded (archive the current segment, unpack the base backup beside the live data, stop and swap, replay through `restore_command` → broker → storage, promote, checkpoint, re-apply bindings).");
        s.AppendLine("pgBackRest: `pgbackrest restore --type=time --target=… --target-action=promote` into an empty directory, then `postgres` started on it until `pg_is_in_recovery()` is false. Both found the marker row (count 1).");
        s.AppendLine();
        s.AppendLine("| tool | total | parts | marker rows |");
        s.AppendLine("|---|---|---|---|");
        s.AppendLine(Inv($"| Steward | {p.StewardSeconds:F1} s | {string.Join("; ", p.StewardSteps.Select(x => $"{x.Name}: {x.Seconds:F1} s"))} (WAL files to `restore_command`: {p.Served.Renamed:F0} renamed from the instance's spool, {p.Served.Spool:F0} over HTTP from the broker's read-ahead, {p.Served.Storage:F0} over HTTP read from storage on request) | {p.StewardRows} |"));
        s.AppendLine(Inv($"| pgBackRest | {pgbrTotal:F1} s | restore (unpack base backup): {p.PgBackRestRestoreSeconds:F1} s; start, replay and promote: {p.PgBackRestRecoverySeconds:F1} s | {p.PgBackRestRows} |"));
        s.AppendLine();
        s.AppendLine(Inv($"Steward / pgBackRest: PITR **{p.StewardSeconds / pgbrTotal:F2}×** (target ≤ 1×)."));
        s.AppendLine();
        s.AppendLine("<!-- analysis -->");
        s.AppendLine(End);
        return s.ToString();
    }

    /// <summary>
    /// Replaces the section between the markers, or appends it. The analysis is written by a person from the
    /// figures: an existing "Where the time goes" part is carried over in place of the placeholder.
    /// </summary>
    public static async Task WriteAsync(string path, string section, CancellationToken ct)
    {
        var text = File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : "# Benchmarks\n";
        var a = text.IndexOf(Start, StringComparison.Ordinal);
        var b = text.IndexOf(End, StringComparison.Ordinal);
        var analysis = a >= 0 && b > a ? text[a..b].IndexOf("### Where the time goes", StringComparison.Ordinal) : -1;
        if (analysis >= 0)
        {
            section = section.Replace("<!-- analysis -->", text[(a + analysis)..b].TrimEnd('\n'), StringComparison.Ordinal);
        }

        text = a >= 0 && b > a ? text[..a] + section.TrimEnd('\n') + text[(b + End.Length)..] : text.TrimEnd('\n') + "\n\n" + section;
        await File.WriteAllTextAsync(path, text, ct);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

namespace Steward.Bench.Backup;

/// <summary>Hand-written reading of the run of 2026-11-30 16:38 UTC (scale 100, 1 run, load 1.9–3.7); re-check it when the figures move.</summary>
internal static partial class Report
{
    private static readonly string[] Notes =
    [
        "- **This run was taken on a quiet machine** (load average about 2–4, nothing else running), but this VM's cores were slower than on 2026-11-21: the zstd stage alone took 7.40 s CPU here against 1.47 s then. Read the ratios of this run, not its absolute times against older runs.",
        "- **What changed since the previous run: the plaintext digest is BLAKE3, not SHA-256** (docs/backup-pipeline.md#integrity). This CPU has no SHA extensions; SHA-256 of the plaintext cost more CPU than zstd on the same bytes, in every backup and every restore. The stored bytes keep SHA-256 (74 MB after compression). Against the shell pipeline with `tee >(openssl dgst -sha256)` (what Steward did before), a first run of this code at 16:38 was 0.75× (13.07 s against 17.42 s); the same-work row above now hashes with `b3sum`, as Steward does: **1.26×**, and **0.89× pgBackRest** (1.35× and 0.64× in the previous, saturated run).",
        "- **Backup against the bare pipeline: 1.43×, not met.** The broker's 10.92 s CPU is zstd level 3 (7.4 s as the CLI), age, BLAKE3 of 1.62 GB, SHA-256 of 74 MB, the pipes and the file write, in one process on 2 cores beside `pg_basebackup` and the server's walsender. The bare pipeline spreads its 9.79 s CPU over three processes, and `zstd -T1` compresses on a worker thread while its main thread moves data (6.55 s wall); Steward's streaming zstd compresses on its filter's thread like `zstd --single-thread` (7.75 s wall here). Next: `ZSTD_c_nbWorkers = 1` so compression overlaps the pipe I/O as `zstd -T1` does — not built yet.",
        "- **Restore, streaming part: 5.21 s = 1.23× the shell restore (target ≤ 1.2×: just missed; 1.57× in the first run of the same code, whose shell restore took 3.30 s), 0.48× pgBackRest's (met, target ≤ 0.8×).** It is CPU-bound in the broker: zstd decompression on one stage, BLAKE3 of the plaintext and the copy into the page cache on the sink's stage, age and the SHA-256 of the 74 MB stored object upstream. The shell restore does no digest at all.",
        "- **Restore, whole operation: 9.96 s against pgBackRest's 10.80 s (target ≤ pgBackRest + 1 s: met; 10.27 vs 10.54 s in the first run).** The 4.7 s outside the streaming part are the stop and swap, the server's start in recovery replaying the archived WAL to the end of the backup (the instance archives WAL, so it is promoted onto a new timeline), removing the previous data, the bindings and the check.",
        "- **Memory:** backup growth 50.5 MB (within 64 MB), restore 66.1 MB (just above; 57.4 and 74.3 MB in the first run): the restore's peak is reached after the unpacking (see the size series below), not by a buffer that follows the data; not traced further yet.",
        "- **Not measured here**: incremental backups against pgBackRest `incr` (the bench has no such series yet).",
    ];
}

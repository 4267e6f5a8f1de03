namespace Steward.Bench.Backup;

/// <summary>Hand-written reading of the run of 2026-12-01 00:43 UTC (scale 100, 3 runs, nothing else running); re-check it when the figures move.</summary>
internal static partial class Report
{
    private static readonly string[] Notes =
    [
        "- **This run had the machine to itself** (the Kubernetes test cluster stopped, no other work), three runs, medians, but this VM's speed moved within it: the zstd stage alone took 2.50–3.20 s of wall time across the runs (1.95 s at 22:12 UTC the day before). Read the ratios of a run, not its absolute times against another run's.",
        "- **What changed since the 22:12 run:** (1) base backups are checked by the zstd frames' own content checksums instead of a BLAKE3 pass over the plaintext (c1d2fe7, docs/backup-pipeline.md \"Integrity\"): one pass less over every byte in the backup and in the restore; (2) restores start the kernel's writeback as they unpack (0732d8d); (3) the broker is published ReadyToRun, as `scripts/start.sh` runs it (132cdef).",
        "- **Backup against the bare pipeline: 0.99× in the median run (target ≤ 1.0×: met), 1.27× at 22:12.** Per run, each against the shell pipeline of the same run: 5.52 / 4.98 s = 1.11×, 4.86 / 3.93 s = 1.24×, 4.91 / 5.08 s = **0.97×**; so met in the median run and in one of three, not in every run: the spread between runs is as large as the gap. Against pgBackRest 0.57×. What remains of the broker's CPU is zstd level 3 with its frame checksums (XXH64), age, the SHA-256 of the 74 MB stored, the pipes and the file write.",
        "- **Restore, streaming part: median 3.80 s = 1.61× the shell restore (target ≤ 1.2×: not met), 0.68× pgBackRest's (≤ 0.8×: met).** Per run: 4.27, **1.84** and 3.80 s against shell restores of 2.37, 2.20 and 2.14 s: 1.80×, **0.84×**, 1.78×. The second run beat the shell restore; the first and third used about twice the broker's CPU for the same bytes (5.83 and 4.67 s against 2.72 s). Not explained yet. One candidate is the writeback started from the unpacking thread: its I/O submission is accounted to the broker, and the call blocks while the disk's queue is full. Against it, the rebuild bench on this machine minutes apart gave, for the streaming plus the server's sync at its start, 1.07–1.32× the shell restore with the writeback and 1.90× without. Started from a thread of its own it gave 1.15–1.49×, no better, and was not kept. Next: the broker's per-thread CPU (`/proc/PID/task`) in a slow and in a fast restore.",
        "- **Restore, whole operation: 5.16 s against pgBackRest's 5.56 s (target ≤ pgBackRest + 1 s: met).**",
        "- **Memory:** backup growth 47.3 MB (median; 55.1 MB at most), restore growth 8.0 MB (median; 65.6 MB at most, in the first restore in this broker, 1.6 MB over the 64 MB target).",
        "- **Incremental backups** against pgBackRest `incr` are in their own section below.",
    ];
}

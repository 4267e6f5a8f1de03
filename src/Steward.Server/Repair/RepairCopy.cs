using System.Text;
using Steward.Backups;
using Steward.Engines;
using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Rehearsal;
using Steward.Engines.PostgreSql.Repair;
using Steward.Engines.PostgreSql.Wal;
using Steward.Errors;
using Steward.Rehearsals;
using Steward.Runtime;
using Steward.Server.Backups;
using Steward.Server.Operations;
using Steward.Wal;

namespace Steward.Server.Repair;

/// <summary>
/// The copy a repair takes its pages from: the base backup unpacked into a sandbox (its own directory and loopback
/// port, no archiving, only the administrator admitted, low CPU and IO priority) and started as a hot standby that
/// replays the archived WAL and then the live server's own pg_wal, so that, once the live server has stopped
/// cleanly and its last WAL is shipped, the copy's pages are exactly at the live server's shutdown checkpoint.
/// It never promotes: nothing but replay ever changes its pages.
/// </summary>
internal sealed class RepairCopy(PostgreSqlEngine engine, IInstanceRuntime runtime, EngineContext live, EngineContext copy, TimeProvider time)
{
    public EngineContext Context => copy;

    /// <summary>Removes whatever an earlier attempt left, then unpacks the backup and starts the standby.</summary>
    public async Task BuildAsync(BackupRecord backup, BackupService backups, IProgress<Steward.Backup.Pipeline.PipelineProgress> report, TimeSpan stopGrace, CancellationToken cancellationToken)
    {
        await DiscardAsync(cancellationToken);
        await runtime.CreateDirectoriesAsync(copy.Paths, cancellationToken);
        await engine.InitializeForRestoreAsync(copy, cancellationToken);
        await engine.ConfigureAsync(copy, cancellationToken);
        await new PostgreSqlRehearsal(engine).ConfigureSandboxAsync(copy, live, cancellationToken);
        var conf = Path.Combine(copy.Paths.ConfigDir, "postgresql.conf");
        await runtime.WriteFileAsync(conf, new StringBuilder(await File.ReadAllTextAsync(conf, cancellationToken))
            .AppendLine("# Repair copy: a hot standby that only replays; WAL handed to pg_wal is picked up within 100 ms.")
            .AppendLine("hot_standby = on")
            .AppendLine("wal_retrieve_retry_interval = '100ms'")
            .AppendLine("recovery_target_timeline = 'latest'")
            .ToString(), cancellationToken);

        var host = new RestoreHost(backup, copy, engine, backups, report, _ => Task.CompletedTask, stopGrace);
        await Steward.Backup.Unpack.BackupChain.UnpackAsync(host, copy.Paths.DataDir, cancellationToken);
        await RecoverySettings.WriteAsync(copy, copy.Paths.DataDir, new Dictionary<string, string>(), cancellationToken);
        await runtime.WriteFileAsync(Path.Combine(copy.Paths.DataDir, "standby.signal"), string.Empty, cancellationToken);
        await StartAsync(cancellationToken);
    }

    /// <summary>Starts the standby at low priority if it does not run (after a broker restart it usually still does).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var launch = engine.Launch(copy);
        var (file, args) = LowPriority.Wrap(launch.FileName, launch.Arguments);
        await runtime.StartAsync(copy.Paths, launch with { FileName = file, Arguments = args }, cancellationToken);
    }

    /// <summary>
    /// After the live server's shutdown: the segments from its last checkpoint's redo point to the checkpoint record,
    /// and any older one it has not archived yet (the copy may still need it).
    /// </summary>
    public async Task<(int Files, long Bytes)> ShipFinalWalAsync(int timeline, long redoSegment, long checkpointSegment, CancellationToken cancellationToken)
    {
        var (files, bytes) = await ShipWalAsync(timeline, redoSegment, checkpointSegment, cancellationToken);
        var (older, olderBytes) = await ShipUnarchivedWalAsync(timeline, redoSegment - 1, cancellationToken);
        return (files + older, bytes + olderBytes);
    }

    /// <summary>The live server's segments up to <paramref name="toSegment"/> it has not archived yet, handed to the copy while the live server runs.</summary>
    public async Task<(int Files, long Bytes)> ShipUnarchivedWalAsync(int timeline, long toSegment, CancellationToken cancellationToken)
    {
        var pgWal = Path.Combine(live.Paths.DataDir, "pg_wal");
        var files = 0;
        long bytes = 0;
        foreach (var path in Directory.EnumerateFiles(pgWal).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (WalName.Parse(name) is { Kind: WalFileKind.Segment } wal && wal.Timeline == timeline && wal.Segment <= toSegment && !File.Exists(Path.Combine(pgWal, "archive_status", name + ".done")))
            {
                var (f, b) = await ShipWalAsync(timeline, wal.Segment, wal.Segment, cancellationToken);
                files += f;
                bytes += b;
            }
        }

        return (files, bytes);
    }

    /// <summary>
    /// Copies the live server's WAL segment files from <paramref name="fromSegment"/> up to <paramref name="toSegment"/>
    /// into the copy's pg_wal (each written aside and renamed, so the standby never reads half a file); returns the
    /// files and bytes shipped.
    /// </summary>
    public async Task<(int Files, long Bytes)> ShipWalAsync(int timeline, long fromSegment, long toSegment, CancellationToken cancellationToken)
    {
        var files = 0;
        long bytes = 0;
        for (var s = fromSegment; s <= toSegment; s++)
        {
            var name = WalName.SegmentName(timeline, s);
            var source = Path.Combine(live.Paths.DataDir, "pg_wal", name);
            if (File.Exists(source))
            {
                await runtime.CopyFileAsync(source, Path.Combine(copy.Paths.DataDir, "pg_wal", name), cancellationToken);
                files++;
                bytes += new FileInfo(source).Length;
            }
        }

        return (files, bytes);
    }

    /// <summary>
    /// Waits until the standby has replayed past <paramref name="lsn"/>. When replay stops advancing for a while, the
    /// segment it waits for is looked for: missing from both the archive and the live pg_wal is a gap (refused).
    /// </summary>
    public async Task<long> WaitReplayedAsync(long lsn, bool strictlyPast, Func<string, CancellationToken, Task<bool>> archived, IProgress<Steward.Backup.Pipeline.PipelineProgress> report, TimeSpan stall, CancellationToken cancellationToken)
    {
        long last = -1;
        var since = time.GetTimestamp();
        var restarts = 0;
        while (true)
        {
            if (runtime.GetStatus(copy.Paths) is not ProcessStatus.Running && ServerLog.Tail(copy.Paths, 12).Contains("steward-wal: fetching", StringComparison.Ordinal) && restarts++ < 3)
            {
                // restore_command could not reach the broker (it was restarting): the standby stopped rather than
                // skip WAL; it resumes from its last restartpoint.
                await StartAsync(cancellationToken);
                continue;
            }

            if (runtime.GetStatus(copy.Paths) is not ProcessStatus.Running)
            {
                throw new StewardException(ErrorCode.Internal, $"the repair copy's server {ServerLog.Describe(runtime.GetStatus(copy.Paths))} while replaying WAL; last log lines: {ServerLog.Tail(copy.Paths, 8)}");
            }

            long? replayed = null;
            try
            {
                replayed = await PostgreSqlRepair.ReplayLsnAsync(copy, cancellationToken);
            }
            catch (Npgsql.NpgsqlException)
            {
                // Not accepting connections until it is consistent (the end of the backup).
            }

            if (replayed is { } r)
            {
                if (strictlyPast ? r > lsn : r >= lsn)
                {
                    return r;
                }

                report.Report(new Steward.Backup.Pipeline.PipelineProgress($"replaying WAL at {Lsn.Format(r)} of {Lsn.Format(lsn)}", r, lsn, null));
                if (r != last)
                {
                    last = r;
                    since = time.GetTimestamp();
                }
            }

            if (time.GetElapsedTime(since) > stall)
            {
                var waiting = replayed is { } at ? at / WalName.SegmentBytes : -1;
                var name = waiting < 0 ? null : WalName.SegmentName((await ControlData.ReadAsync(engine, copy, copy.Paths.DataDir, cancellationToken)).Timeline, waiting);
                var gap = name is not null && !File.Exists(Path.Combine(live.Paths.DataDir, "pg_wal", name)) && !await archived(name, cancellationToken);
                throw new StewardException(ErrorCode.Internal, gap
                    ? $"no verified copy at the live point can be built: the copy's replay stopped at {Lsn.Format(replayed!.Value)} and WAL segment {name} is neither in the archive nor in the live server's pg_wal (a gap)"
                    : $"the repair copy's replay made no progress for {stall.TotalSeconds:0} s at {(replayed is { } x ? Lsn.Format(x) : "its start")} (waiting for {Lsn.Format(lsn)}); last log lines: {ServerLog.Tail(copy.Paths, 6)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }
    }

    /// <summary>A restartpoint: every page the copy has replayed is written to its files (a standby's CHECKPOINT).</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => WalInspector.CheckpointAsync(copy, cancellationToken);

    /// <summary>Stops the copy's server (whatever runs under its directory) and removes its files.</summary>
    public async Task DiscardAsync(CancellationToken cancellationToken)
    {
        await runtime.StopAsync(copy.Paths, 9, TimeSpan.Zero, cancellationToken);
        await runtime.DeleteAsync(copy.Paths, cancellationToken);
    }
}

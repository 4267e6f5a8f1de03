using Steward.Backup.Sources;
using Steward.Engines.PostgreSql.Wal;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Backups;
using Steward.Server.Backups.Wal;

namespace Steward.Server.Operations;

/// <summary>
/// Point-in-time restore of a PostgreSQL instance: the chosen base backup is unpacked beside the live data with
/// recovery settings; only then is the server stopped and the directories swapped; the server replays archived
/// WAL (fetched and verified through the broker) up to the target and promotes itself onto a new timeline. Until
/// it has promoted, any failure puts the previous data back. Every step is recorded, so a broker killed mid-way
/// resumes (a server left replaying keeps replaying; one that stopped because the broker was gone is restarted).
/// </summary>
internal sealed partial class InstanceWorkflows
{
    private async Task<Operation> PointInTimeRestoreAsync(Operation op, PointInTimePayload payload, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(op, cancellationToken);
        if (engines.HighlyAvailable(instance))
        {
            return await HaPointInTimeRestoreAsync(op, instance, payload, cancellationToken); // InstanceWorkflows.HaRestore.cs
        }

        var backup = await PitrBackupAsync(op, payload, cancellationToken);
        var context = engines.Context(instance);
        var run = NewPitrRun(op, instance, backup, context);
        try
        {
            op = await RunStepsAsync(
                op,
                [
                    PitrArchiveStep(run),
                    PitrFetchStep(run, instance, payload, "the live data"),
                    PitrSwapStep(run, "the server"),
                    PitrRecoverStep(run, instance, $"replaying archived WAL to {payload.Description}"),
                    PitrFinishStep(run, "the data"),
                    CredentialsStep(instance, context),
                    new("verify", "checking the restored server", ct => EnsureRunningAsync(instance, ct), Rerun: true),
                ],
                cancellationToken);
            var status = await WalInspector.StatusAsync(context, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, $"restored to {payload.Description} from base backup {backup.Id}; now on timeline {status.Timeline}", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return await PitrFailedAsync(op, instance, run, ex, () => EnsureRunningAsync(instance, CancellationToken.None), () => Task.FromResult(KeptPreviousData), promoted: null);
        }
        finally
        {
            progress.Forget(op.Id);
        }
    }

    private const string KeptPreviousData = "; the instance keeps its data from before the restore";

    /// <summary>
    /// After a restore failed before the restored server promoted: stops it, puts the data from before the restore
    /// back and starts the server with <paramref name="restart"/>; returns what the failure's description adds.
    /// </summary>
    private static async Task<string> PutPreviousDataBackAsync(RestoreHost host, InstancePaths paths, string previous, Func<Task> restart)
    {
        try
        {
            await host.StopServerAsync(CancellationToken.None);
            if (Directory.Exists(paths.DataDir))
            {
                Directory.Delete(paths.DataDir, recursive: true);
            }

            Directory.Move(previous, paths.DataDir);
            await restart();
            return KeptPreviousData;
        }
        catch (Exception rollback)
        {
            return "; putting the previous data back failed too: " + rollback.Message;
        }
    }

    /// <summary>
    /// Recreates a data directory from a physical backup and archived WAL (a rebuild, a clone): the backup is unpacked
    /// beside it with the recovery settings, <paramref name="beforeStart"/> may add to it, then it replaces the data
    /// directory and the server replays to the target and promotes; the recovery settings are removed again.
    /// </summary>
    private async Task RecoverIntoDataDirectoryAsync(ServiceInstance instance, Engines.EngineContext context, RestoreHost host, Dictionary<string, string> settings, Func<string, CancellationToken, Task>? beforeStart, IProgress<Steward.Backup.Pipeline.PipelineProgress> report, CancellationToken cancellationToken)
    {
        // A rerun after a broker crash may find the previous attempt's server still replaying in the data directory
        // (it outlives the broker): it is stopped before that directory is replaced, or it would go on writing into
        // the new one by path and be taken for the new server ("already running").
        await Runtime.StopAsync(context.Paths, 9, TimeSpan.Zero, cancellationToken);
        var staging = Path.Combine(context.Paths.Root, "restore-staging");
        await UnpackForRecoveryAsync(instance, context, host, staging, settings, cancellationToken);
        if (beforeStart is not null)
        {
            try
            {
                await beforeStart(staging, cancellationToken);
            }
            catch
            {
                await walSpool.ReleaseAsync(instance.Id);
                throw;
            }
        }

        if (Directory.Exists(context.Paths.DataDir))
        {
            Directory.Delete(context.Paths.DataDir, recursive: true);
        }

        Directory.Move(staging, context.Paths.DataDir);
        await ReplayAsync(instance, context, report, cancellationToken);
        await RecoverySettings.RemoveAsync(context, context.Paths.DataDir, cancellationToken);
    }

    /// <summary>
    /// Unpacks a physical backup into an empty <paramref name="staging"/> directory with the recovery settings that
    /// replay to a target. The WAL read-ahead into the instance's own spool starts first, from the segment the
    /// backup's recovery starts in, so the server finds it there when it starts (ReplayAsync releases it; a failure
    /// here does).
    /// </summary>
    private async Task UnpackForRecoveryAsync(ServiceInstance instance, Engines.EngineContext context, RestoreHost host, string staging, Dictionary<string, string> settings, CancellationToken cancellationToken)
    {
        if (host.RecoveryStart is { } start)
        {
            await walSpool.AttachAsync(instance.Id, context.Paths, host.Backup.InstanceId, start, cancellationToken);
        }

        try
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            await host.CreateDirectoryAsync(staging, cancellationToken);
            await Steward.Backup.Unpack.BackupChain.UnpackAsync(host, staging, cancellationToken);
            await RecoverySettings.WriteAsync(context, staging, settings, cancellationToken);
        }
        catch
        {
            await walSpool.ReleaseAsync(instance.Id);
            throw;
        }
    }

    /// <summary>
    /// A restore of a physical backup while the instance archives WAL: recovery stops as soon as the backup is
    /// consistent and the server promotes itself onto a new timeline (as pgBackRest's and CloudNativePG's restores
    /// do). Started on the backup's own timeline, it would write WAL under names the archive already holds with the
    /// original server's content, and archiving would stop there. Null for any other restore.
    /// </summary>
    private static PointInTimePayload? AsPointInTime(Steward.Backups.BackupRecord backup, Engines.IDataServiceEngine engine)
    {
        if (engine is not Engines.PostgreSql.PostgreSqlEngine { WalOptions: not null } || RecoveryPlanner.BaseOf(backup) is not { } start)
        {
            return null;
        }

        var timeline = start.Timeline.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new PointInTimePayload(backup.Id, "backup", start.Timeline, new() { ["recovery_target"] = "immediate", ["recovery_target_timeline"] = timeline }, $"the end of backup {backup.Id}");
    }

    /// <summary>Best effort: completes the current segment and waits briefly until it is archived, so "latest" includes it.</summary>
    private async Task ArchiveCurrentAsync(Engines.EngineContext context, CancellationToken cancellationToken)
    {
        if (Runtime.GetStatus(context.Paths) is not ProcessStatus.Running)
        {
            return;
        }

        try
        {
            var status = await WalInspector.StatusAsync(context, cancellationToken);
            if (!status.ArchiveModeOn || status.InRecovery)
            {
                return;
            }

            await WalInspector.SwitchAsync(context, cancellationToken);
            var deadline = time.GetTimestamp();
            while (time.GetElapsedTime(deadline) < TimeSpan.FromSeconds(30) && (await WalInspector.StatusAsync(context, cancellationToken)).PendingSegments > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
            }
        }
        catch (Npgsql.NpgsqlException)
        {
            // A server that does not answer has nothing more to archive now; recovery uses what is archived.
        }
    }

    /// <summary>Starts the server in recovery (if it is not running) and waits until it has promoted itself.</summary>
    private async Task ReplayAsync(ServiceInstance instance, Engines.EngineContext context, IProgress<Steward.Backup.Pipeline.PipelineProgress> report, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        await walSpool.AttachAsync(instance.Id, context.Paths, cancellationToken); // read ahead into the instance's own spool
        try
        {
            await ReplayToPromotionAsync(instance, context, engine, report, cancellationToken);
        }
        finally
        {
            await walSpool.ReleaseAsync(instance.Id); // what was fetched ahead past the target is not needed any more
        }

        await WalInspector.CheckpointAsync(context, cancellationToken);
    }

    private async Task ReplayToPromotionAsync(ServiceInstance instance, Engines.EngineContext context, Engines.IDataServiceEngine engine, IProgress<Steward.Backup.Pipeline.PipelineProgress> report, CancellationToken cancellationToken)
    {
        await Runtime.StartAsync(context.Paths, engine.Launch(context), cancellationToken);
        var restarts = 0;
        while (true)
        {
            var status = Runtime.GetStatus(context.Paths);
            if (status is not ProcessStatus.Running)
            {
                // The server stops recovery (rather than promote early) when restore_command cannot reach the
                // broker at all (curl exit 7: it was down longer than the helper retries); replay resumes from its
                // last restartpoint once it can. A damaged or unreadable file is not retried here.
                var tail = ServerLog.Tail(context.Paths, 12);
                if (tail.Contains("failed (curl exit 7,", StringComparison.Ordinal) && restarts++ < 3)
                {
                    await Task.Delay(TimeSpan.FromSeconds(restarts), time, cancellationToken);
                    await Runtime.StartAsync(context.Paths, engine.Launch(context), cancellationToken);
                    continue;
                }

                throw new StewardException(ErrorCode.Internal, $"the server {ServerLog.Describe(status)} during recovery; last log lines: {ServerLog.Tail(context.Paths)}");
            }

            try
            {
                var (inRecovery, replay) = await WalInspector.RecoveryAsync(context, cancellationToken);
                if (!inRecovery)
                {
                    return;
                }

                if (replay is not null && Steward.Wal.Lsn.TryParse(replay, out var lsn))
                {
                    report.Report(new Steward.Backup.Pipeline.PipelineProgress("replaying WAL at " + replay, lsn, 0, null));
                }
            }
            catch (Npgsql.NpgsqlException)
            {
                // Not accepting connections until the restored data is consistent.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }
    }
}

using Steward.Backup.Pipeline;
using Steward.Backups;
using Steward.Engines;
using Steward.Engines.PostgreSql.Wal;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Backups;
using Steward.Server.Backups.Wal;

namespace Steward.Server.Operations;

/// <summary>
/// What a point-in-time restore of a standalone instance (InstanceWorkflows.PointInTime.cs) and of an ha plan's primary
/// (InstanceWorkflows.HaRestore.cs) do alike: the base backup unpacked beside the data, the swap, the replay up to the
/// promotion, the clean-up, and after a failure the previous data put back while the server has not promoted.
/// </summary>
internal sealed partial class InstanceWorkflows
{
    /// <summary>One point-in-time restore into the server of <see cref="Context"/>, and whether its server has promoted.</summary>
    private sealed class PitrRun(BackupRecord backup, EngineContext context, IProgress<PipelineProgress> report, RestoreHost host)
    {
        public BackupRecord Backup => backup;

        public EngineContext Context => context;

        public InstancePaths Paths => context.Paths;

        public IProgress<PipelineProgress> Report => report;

        public RestoreHost Host => host;

        public string Staging { get; } = Path.Combine(context.Paths.Root, "restore-staging");

        public string Previous { get; } = Path.Combine(context.Paths.Root, "data.pre-restore");

        public bool Promoted { get; set; }
    }

    private async Task<BackupRecord> PitrBackupAsync(Operation op, PointInTimePayload payload, CancellationToken cancellationToken) =>
        await store.GetBackupAsync(payload.BackupId, cancellationToken)
            ?? throw new InvalidOperationException($"backup {payload.BackupId} of operation {op.Id} is missing");

    private PitrRun NewPitrRun(Operation op, ServiceInstance instance, BackupRecord backup, EngineContext context)
    {
        var report = progress.Track(op.Id);
        return new PitrRun(backup, context, report, new RestoreHost(backup, context, engines.Engine(instance.ServiceId), backups, report, ct => EnsureRunningAsync(instance, ct), options.StopGrace));
    }

    private Step PitrArchiveStep(PitrRun run) => new("archive", "archiving the WAL written so far", ct => ArchiveCurrentAsync(run.Context, ct));

    private Step PitrFetchStep(PitrRun run, ServiceInstance instance, PointInTimePayload payload, string beside) =>
        new("fetch", $"unpacking base backup {run.Backup.Id} beside {beside}", ct => UnpackForRecoveryAsync(instance, run.Context, run.Host, run.Staging, payload.Settings, ct));

    /// <summary>Stops the server and puts the unpacked data in place of its own (kept as <see cref="PitrRun.Previous"/>), then runs <paramref name="swapped"/>.</summary>
    private static Step PitrSwapStep(PitrRun run, string server, Func<CancellationToken, Task>? swapped = null) =>
        new("swap", $"stopping {server} and putting the restored data in place", async ct =>
        {
            if (!Directory.Exists(run.Staging))
            {
                return;
            }

            await run.Host.StopServerAsync(ct);
            if (!Directory.Exists(run.Previous))
            {
                Directory.Move(run.Paths.DataDir, run.Previous);
            }
            else if (Directory.Exists(run.Paths.DataDir))
            {
                Directory.Delete(run.Paths.DataDir, recursive: true);
            }

            Directory.Move(run.Staging, run.Paths.DataDir);
            if (swapped is not null)
            {
                await swapped(ct);
            }
        }, Rerun: true);

    private Step PitrRecoverStep(PitrRun run, ServiceInstance instance, string description) =>
        new("recover", description, async ct =>
        {
            await ReplayAsync(instance, run.Context, run.Report, ct);
            run.Promoted = true;
        }, Rerun: true);

    private static Step PitrFinishStep(PitrRun run, string data) =>
        new("finish", $"removing {data} from before the restore", async ct =>
        {
            run.Promoted = true;
            await RecoverySettings.RemoveAsync(run.Context, run.Paths.DataDir, ct);
            if (Directory.Exists(run.Previous))
            {
                Directory.Delete(run.Previous, recursive: true);
            }
        }, Rerun: true);

    /// <summary>The step every restore, rebuild and point-in-time restore ends with: the bindings' roles or users, as the broker records them.</summary>
    private Step CredentialsStep(ServiceInstance instance, EngineContext context) =>
        new("credentials", "re-applying the current bindings", async ct => await engines.Engine(instance.ServiceId).ReconcileCredentialsAsync(context, [.. (await store.ListBindingsAsync(instance.Id, ct)).Where(b => b.State == BindingState.Created)], ct), Rerun: true);

    /// <summary>
    /// Ends a failed point-in-time restore. Before the promotion, the data from before the restore is put back and the
    /// server started with <paramref name="restart"/>, or, when the swap had not happened and the server still runs,
    /// <paramref name="keptRunning"/> says what was done; after it, <paramref name="promoted"/> (if any). The unpacked
    /// backup goes; the operation records whether the instance is usable.
    /// </summary>
    private async Task<Operation> PitrFailedAsync(Operation op, ServiceInstance instance, PitrRun run, Exception ex, Func<Task> restart, Func<Task<string>> keptRunning, Func<Task<string>>? promoted)
    {
        var description = await FailureAsync("point-in-time restore", op, ex, instance);
        if (!run.Promoted && Directory.Exists(run.Previous))
        {
            description += await PutPreviousDataBackAsync(run.Host, run.Paths, run.Previous, restart);
        }
        else if (!run.Promoted && Runtime.GetStatus(run.Paths) is ProcessStatus.Running)
        {
            description += await keptRunning();
        }
        else if (run.Promoted && promoted is not null)
        {
            description += await promoted();
        }

        if (Directory.Exists(run.Staging))
        {
            Directory.Delete(run.Staging, recursive: true);
        }

        var usable = Runtime.GetStatus(run.Paths) is ProcessStatus.Running;
        return await FinishAsync(op with { InstanceUsable = usable }, OperationState.Failed, description, ex, CancellationToken.None);
    }
}

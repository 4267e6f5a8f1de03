using Steward.Engines.PostgreSql.Wal;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Backups;
using Steward.Server.Backups.Wal;

namespace Steward.Server.Operations;

/// <summary>
/// A restore (of a physical backup, or to a point in time) into an instance on an ha plan: the base backup is
/// unpacked beside the primary's data; the standbys are stopped; the primary's data is swapped and replayed from the
/// archive to the target, and the primary promotes itself onto a new timeline; then every standby is rebuilt from
/// it, synchronous replication is switched on again and the endpoint leads to it. Until the primary has promoted,
/// a failure puts its previous data back and restarts the standbys as they were. Each step is recorded, so a broker
/// killed mid-way finishes the restore at its next start (the HA controller leaves the instance alone meanwhile).
/// </summary>
internal sealed partial class InstanceWorkflows
{
    private async Task<Operation> HaPointInTimeRestoreAsync(Operation op, ServiceInstance instance, PointInTimePayload payload, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        var backup = await store.GetBackupAsync(payload.BackupId, cancellationToken)
            ?? throw new InvalidOperationException($"backup {payload.BackupId} of operation {op.Id} is missing");
        var primary = await haRestore.PrimaryAsync(instance, cancellationToken);
        var context = haRestore.Context(instance, primary);
        var paths = context.Paths;
        var staging = Path.Combine(paths.Root, "restore-staging");
        var previous = Path.Combine(paths.Root, "data.pre-restore");
        var report = progress.Track(op.Id);
        var host = new RestoreHost(backup, context, engine, backups, report, ct => EnsureRunningAsync(instance, ct), options.StopGrace);
        var promoted = false;
        try
        {
            op = await RunStepsAsync(
                op,
                [
                    new("archive", "archiving the WAL written so far", ct => ArchiveCurrentAsync(context, ct)),
                    new("fetch", $"unpacking base backup {backup.Id} beside the data of primary {primary.Name}", ct => UnpackForRecoveryAsync(context, host, staging, payload.Settings, ct)),
                    new("ha-standbys-stop", "stopping the standbys", ct => haRestore.StopStandbysAsync(instance, ct), Rerun: true),
                    new("swap", $"stopping primary {primary.Name} and putting the restored data in place", async ct =>
                    {
                        if (!Directory.Exists(staging))
                        {
                            return;
                        }

                        await host.StopServerAsync(ct);
                        if (!Directory.Exists(previous))
                        {
                            Directory.Move(paths.DataDir, previous);
                        }
                        else if (Directory.Exists(paths.DataDir))
                        {
                            Directory.Delete(paths.DataDir, recursive: true);
                        }

                        Directory.Move(staging, paths.DataDir);
                        await haRestore.AloneAsync(instance, primary, ct);
                    }, Rerun: true),
                    new("recover", $"replaying archived WAL to {payload.Description} on primary {primary.Name}", async ct =>
                    {
                        await ReplayAsync(instance, context, report, ct);
                        promoted = true;
                    }, Rerun: true),
                    new("finish", "removing the primary's data from before the restore", async ct =>
                    {
                        promoted = true;
                        await RecoverySettings.RemoveAsync(context, paths.DataDir, ct);
                        if (Directory.Exists(previous))
                        {
                            Directory.Delete(previous, recursive: true);
                        }
                    }, Rerun: true),
                    new("ha-standbys", "rebuilding the standbys from the restored primary", ct => haRestore.RebuildStandbysAsync(instance, primary, ct)),
                    new("ha-lead", "switching synchronous replication on and leading the endpoint to the primary", ct => haRestore.LeadAsync(instance, primary, ct), Rerun: true),
                    new("credentials", "re-applying the current bindings", async ct => await engine.ReconcileCredentialsAsync(engines.Context(instance), [.. (await store.ListBindingsAsync(instance.Id, ct)).Where(b => b.State == BindingState.Created)], ct), Rerun: true),
                    new("verify", "checking the restored instance through its endpoint", ct => ProbeEndpointAsync(instance, ct), Rerun: true),
                ],
                cancellationToken);
            var status = await WalInspector.StatusAsync(context, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, $"restored to {payload.Description} from base backup {backup.Id} into primary {primary.Name}, standbys rebuilt from it; now on timeline {status.Timeline}", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var description = await FailureAsync("point-in-time restore", op, ex, instance);
            if (!promoted && Directory.Exists(previous))
            {
                description += await PutPreviousDataBackAsync(host, paths, previous, () => haRestore.RestartAsBeforeAsync(instance, primary, CancellationToken.None));
            }
            else if (!promoted && Runtime.GetStatus(paths) is ProcessStatus.Running)
            {
                try
                {
                    await haRestore.RestartAsBeforeAsync(instance, primary, CancellationToken.None);
                    description += KeptPreviousData;
                }
                catch (Exception restart)
                {
                    description += "; restarting the standbys failed: " + restart.Message;
                }
            }
            else if (promoted)
            {
                try
                {
                    await haRestore.LeadAsync(instance, primary, CancellationToken.None);
                    description += "; the primary runs on the restored data, and the HA controller replaces the standbys that are not streaming";
                }
                catch (Exception lead)
                {
                    description += "; the primary runs on the restored data, but leading the endpoint to it failed: " + lead.Message;
                }
            }

            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            var usable = Runtime.GetStatus(paths) is ProcessStatus.Running;
            return await FinishAsync(op with { InstanceUsable = usable }, OperationState.Failed, description, ex, CancellationToken.None);
        }
        finally
        {
            progress.Forget(op.Id);
        }
    }

    /// <summary>Commits a write through the endpoint, as a client would (acknowledged by a standby once replication is synchronous again).</summary>
    private async Task ProbeEndpointAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                probe.CancelAfter(TimeSpan.FromSeconds(10));
                await engine.ProbeAsync(engines.Context(instance), probe.Token);
                return;
            }
            catch (Exception) when (time.GetElapsedTime(started) < options.StartupTimeout && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
            }
        }
    }
}

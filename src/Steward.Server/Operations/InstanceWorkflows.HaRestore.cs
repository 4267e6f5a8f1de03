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
        var backup = await PitrBackupAsync(op, payload, cancellationToken);
        var primary = await haRestore.PrimaryAsync(instance, cancellationToken);
        var context = haRestore.Context(instance, primary);
        var run = NewPitrRun(op, instance, backup, context);
        try
        {
            op = await RunStepsAsync(
                op,
                [
                    PitrArchiveStep(run),
                    PitrFetchStep(run, instance, payload, $"the data of primary {primary.Name}"),
                    new("ha-standbys-stop", "stopping the standbys", ct => haRestore.StopStandbysAsync(instance, ct), Rerun: true),
                    PitrSwapStep(run, $"primary {primary.Name}", ct => haRestore.AloneAsync(instance, primary, ct)),
                    PitrRecoverStep(run, instance, $"replaying archived WAL to {payload.Description} on primary {primary.Name}"),
                    PitrFinishStep(run, "the primary's data"),
                    new("ha-standbys", "rebuilding the standbys from the restored primary", ct => haRestore.RebuildStandbysAsync(instance, primary, ct)),
                    new("ha-lead", "switching synchronous replication on and leading the endpoint to the primary", ct => haRestore.LeadAsync(instance, primary, ct), Rerun: true),
                    CredentialsStep(instance, engines.Context(instance)),
                    new("verify", "checking the restored instance through its endpoint", ct => ProbeEndpointAsync(instance, ct), Rerun: true),
                ],
                cancellationToken);
            var status = await WalInspector.StatusAsync(context, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, $"restored to {payload.Description} from base backup {backup.Id} into primary {primary.Name}, standbys rebuilt from it; now on timeline {status.Timeline}", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return await PitrFailedAsync(op, instance, run, ex, () => haRestore.RestartAsBeforeAsync(instance, primary, CancellationToken.None), RestartStandbysAsync, LeadRestoredPrimaryAsync);
        }
        finally
        {
            progress.Forget(op.Id);
        }

        async Task<string> RestartStandbysAsync()
        {
            try
            {
                await haRestore.RestartAsBeforeAsync(instance, primary, CancellationToken.None);
                return KeptPreviousData;
            }
            catch (Exception restart)
            {
                return "; restarting the standbys failed: " + restart.Message;
            }
        }

        async Task<string> LeadRestoredPrimaryAsync()
        {
            try
            {
                await haRestore.LeadAsync(instance, primary, CancellationToken.None);
                return "; the primary runs on the restored data, and the HA controller replaces the standbys that are not streaming";
            }
            catch (Exception lead)
            {
                return "; the primary runs on the restored data, but leading the endpoint to it failed: " + lead.Message;
            }
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

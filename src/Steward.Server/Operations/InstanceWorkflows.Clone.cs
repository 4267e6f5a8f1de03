using System.Text.Json;
using Steward.Instances;
using Steward.Operations;
using Steward.Server.Backups;

namespace Steward.Server.Operations;

/// <summary>
/// A provision that clones another instance's backup: the new instance gets its own port, directory and
/// administrator password, none of the source's bindings, and the source's data as of the backup; the source is
/// only read from backup storage, never touched.
/// </summary>
internal sealed partial class InstanceWorkflows
{
    private async Task<Operation> CloneAsync(Operation op, ClonePayload payload, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(op, cancellationToken);
        var engine = engines.Engine(instance.ServiceId);
        var backup = await store.GetBackupAsync(payload.BackupId, cancellationToken)
            ?? throw new InvalidOperationException($"backup {payload.BackupId} of operation {op.Id} is missing");
        var source = await store.GetInstanceAsync(payload.SourceInstanceId, cancellationToken)
            ?? throw new InvalidOperationException($"instance {payload.SourceInstanceId} of operation {op.Id} is missing");
        var method = backups.Method(engine.Offering.Name, backup.Kind);

        // Until the clone adopts its own administrator password, a server restored from the source's data
        // directory accepts only the source's (where the engine keeps it in the data).
        var adopts = method.RestoresWholeDataDirectory && engine.AdminPasswordInData;
        ServiceInstance Restoring() => adopts ? instance with { AdminPassword = source.AdminPassword } : instance;

        var steps = new List<Step>
        {
            new("allocate", "allocating a port", async ct =>
            {
                if (instance.Port is null)
                {
                    await ports.AllocateAsync(async port => await SaveAsync(instance = instance with { Port = port }, ct), ct);
                }
            }),
            new("restore", $"restoring backup {backup.Id} of {source.Id} ({backup.Kind}){(payload.PointInTime is { } pit ? $" and replaying its archived WAL to {pit.Description}" : string.Empty)}", async ct =>
            {
                var context = engines.Context(Restoring());
                await Runtime.CreateDirectoriesAsync(context.Paths, ct);
                await (method.RestoresWholeDataDirectory ? engine.InitializeForRestoreAsync(engines.Context(instance), ct) : engine.InitializeAsync(context, ct));
                await engine.ConfigureAsync(context, ct);
                var host = new RestoreHost(backup, context, engine, backups, progress.Track(op.Id), c => EnsureRunningAsync(Restoring(), c), options.StopGrace);
                if (payload.PointInTime is { } recovery)
                {
                    // The clone's restore_command reads the source's archive while this provisioning runs (WalEndpoints);
                    // it promotes onto a timeline of its own, and archives from there into its own archive.
                    await RecoverIntoDataDirectoryAsync(Restoring(), context, host, recovery.Settings, null, progress.Track(op.Id), ct);
                    return;
                }

                if (!method.RestoresWholeDataDirectory)
                {
                    await EnsureRunningAsync(instance, ct);
                    await engine.BootstrapAsync(context, ct);
                }

                await method.RestoreAsync(context, host, ct);
            }, Rerun: true),
            new("adopt", "giving the clone its own administrator password", async ct =>
            {
                if (adopts)
                {
                    await engine.AdoptRestoredAdminAsync(engines.Context(instance), source.AdminPassword, ct);
                }
            }, Rerun: true),

            // The source's bindings came with its data: none of them may open the clone.
            new("credentials", "removing the source's credentials", ct => engine.ReconcileCredentialsAsync(engines.Context(instance), [], ct), Rerun: true),
            new("verify", "checking the clone", ct => EnsureRunningAsync(instance, ct), Rerun: true),
        };

        try
        {
            op = await RunStepsAsync(op, steps, cancellationToken);
            await SaveAsync(instance with { State = InstanceState.Ready }, cancellationToken);
            var at = payload.PointInTime is { } point ? $" with its archived WAL replayed to {point.Description}" : string.Empty;
            return await FinishAsync(op, OperationState.Succeeded, $"instance provisioned as a clone of {source.Id} from backup {backup.Id} taken {backup.StartedAt:u}{at}", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var description = await FailureAsync("cloning", op, ex, instance);

            // As a failed provision: nothing is left behind.
            await Runtime.DeleteAsync(Runtime.PathsFor(instance.InternalId), CancellationToken.None);
            await SaveAsync(instance with { State = InstanceState.Failed, Port = null }, CancellationToken.None);
            return await FinishAsync(op with { InstanceUsable = false }, OperationState.Failed, description, ex, CancellationToken.None);
        }
        finally
        {
            progress.Forget(op.Id);
        }
    }
}

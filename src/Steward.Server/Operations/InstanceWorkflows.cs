using System.Text.Json;
using Steward.Engines;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Backups;
using Steward.Server.Configuration;
using Steward.Server.Logging;
using Steward.Server.Supervision;
using Steward.State;

namespace Steward.Server.Operations;

/// <summary>
/// The steps of every operation. Each step is idempotent and recorded when done, so an operation
/// interrupted by a crash resumes where it stopped and ends either succeeded or cleanly failed.
/// </summary>
internal sealed partial class InstanceWorkflows(
    IStateStore store,
    EngineRegistry engines,
    PortAllocator ports,
    BackupService backups,
    ProgressBoard progress,
    Fence fence,
    HighAvailability.HaProvisioning ha,
    HighAvailability.HaConversion conversion,
    HighAvailability.HaRestore haRestore,
    HighAvailability.HaParameterChange haParameters,
    Pool.WarmPool pool,
    Backups.Wal.WalSpool walSpool,
    StewardOptions options,
    TimeProvider time,
    ILogger<InstanceWorkflows> logger)
{
    private IInstanceRuntime Runtime => engines.Runtime;

    /// <summary>Runs (or resumes) an operation to its end and returns it as recorded.</summary>
    public Task<Operation> RunAsync(Operation op, CancellationToken cancellationToken) => op.Kind switch
    {
        OperationKind.Provision => ProvisionAsync(op, cancellationToken),
        OperationKind.Update => UpdateAsync(op, cancellationToken),
        OperationKind.Deprovision => DeprovisionAsync(op, cancellationToken),
        OperationKind.Bind => BindAsync(op, cancellationToken),
        OperationKind.Unbind => UnbindAsync(op, cancellationToken),
        OperationKind.Restore => RestoreAsync(op, cancellationToken),
        OperationKind.Rebuild => RebuildAsync(op, cancellationToken),
        OperationKind.Repair => RepairAsync(op, cancellationToken),
        _ => throw new InvalidOperationException($"unknown operation kind {op.Kind}"),
    };

    /// <summary>Starts an instance's server if it is not running and waits until it answers.</summary>
    public async Task EnsureRunningAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        var context = engines.Context(instance);
        await Runtime.StartAsync(context.Paths, engine.Launch(context), cancellationToken);
        await WaitReadyAsync(engine, context, cancellationToken);
    }

    private async Task<Operation> ProvisionAsync(Operation op, CancellationToken cancellationToken)
    {
        if (op.PayloadJson is { } json && JsonSerializer.Deserialize<ClonePayload>(json) is { } clone)
        {
            return await CloneAsync(op, clone, cancellationToken);
        }

        var instance = await InstanceAsync(op, cancellationToken);
        var engine = engines.Engine(instance.ServiceId);
        var steps = ha.IsHighlyAvailable(instance) ? [.. ha.ProvisionSteps(instance.Id)] : new List<Step>
        {
            new("allocate", "allocating a port", async ct =>
            {
                if (instance.Port is null)
                {
                    await ports.AllocateAsync(async port => await SaveAsync(instance = instance with { Port = port }, ct), ct);
                }
            }),
            new("initialize", "creating the data directory", async ct =>
            {
                if (await pool.TakeAsync(instance, ct) is { } prepared)
                {
                    instance = prepared;
                    return;
                }

                var context = engines.Context(instance);
                await Runtime.CreateInstanceAsync(context.Paths, context.Shape, ct);
                await engine.InitializeAsync(context, ct);
            }),
            new("configure", "writing the configuration", async ct =>
            {
                await pool.ReleaseAsync(instance.Id, ct);
                await engine.ConfigureAsync(engines.Context(instance), ct);
            }),
            new("start", "starting the server", async ct => instance = await StartNewAsync(instance, engine, ct), Rerun: true), // InstanceWorkflows.PortRace.cs
            new("bootstrap", "creating the application database", ct => engine.BootstrapAsync(engines.Context(instance), ct), Rerun: true),
        };

        try
        {
            op = await RunStepsAsync(op, steps, cancellationToken);
            instance = await InstanceAsync(op, cancellationToken);
            await SaveAsync(instance with { State = InstanceState.Ready }, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, "instance provisioned", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var description = await FailureAsync("provisioning", op, ex, instance);

            // A failed provision leaves nothing behind: no process, no directory, no port.
            await Runtime.DeleteAsync(Runtime.PathsFor(instance.InternalId), CancellationToken.None);
            await ha.ForgetAsync(instance.Id, CancellationToken.None);
            instance = await InstanceAsync(op, CancellationToken.None);
            await SaveAsync(instance with { State = InstanceState.Failed, Port = null }, CancellationToken.None);
            return await FinishAsync(op with { InstanceUsable = false }, OperationState.Failed, description, ex, CancellationToken.None);
        }
    }

    private async Task<Operation> UpdateAsync(Operation op, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize<UpdatePayload>(op.PayloadJson!)!;
        var instance = await InstanceAsync(op, cancellationToken);
        var target = instance with { PlanId = payload.PlanId, ParametersJson = payload.ParametersJson };
        var previousPlan = engines.Plan(instance.ServiceId, payload.PreviousPlanId);
        var converts = HighAvailability.HaConversion.Converts(previousPlan, engines.Plan(instance.ServiceId, payload.PlanId));
        var current = instance with { PlanId = payload.PreviousPlanId, ParametersJson = payload.PreviousParametersJson };
        var rolls = !converts && HighAvailability.HaParameterChange.Rolls(previousPlan, engines.Plan(instance.ServiceId, payload.PlanId));
        try
        {
            op = await RunStepsAsync(
                op,
                rolls ? haParameters.Steps(target, SaveAsync)
                : !converts ? ApplySteps(target)
                    : previousPlan.HighlyAvailable ? conversion.ToSingleServerSteps(current, target, EnsureRunningAsync)
                    : conversion.ToHighAvailabilitySteps(current, target),
                cancellationToken);
            await SaveAsync(target with { State = InstanceState.Ready }, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, "instance updated", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var description = await FailureAsync("updating", op, ex, target);
            var previous = instance with { PlanId = payload.PreviousPlanId, ParametersJson = payload.PreviousParametersJson, State = InstanceState.Ready };
            if (converts)
            {
                // Members half added or removed are not undone blindly: the files are where the failed step left them,
                // and nothing restarts the instance from a layout that no longer matches its plan.
                await SaveAsync(previous with { State = InstanceState.Quarantined }, CancellationToken.None);
                return await FinishAsync(op with { InstanceUsable = false }, OperationState.Failed, description + "; the plan change stopped at that step: the instance is quarantined with its files left in place for an operator (docs/high-availability.md)", ex, CancellationToken.None);
            }

            var usable = true;
            try
            {
                foreach (var step in rolls ? haParameters.Steps(previous, SaveAsync) : ApplySteps(previous))
                {
                    await step.Run(CancellationToken.None);
                }

                description += "; the previous plan and parameters were restored";
            }
            catch (Exception rollback)
            {
                usable = false;
                description += "; restoring the previous configuration failed too: " + rollback.Message;
            }

            await SaveAsync(previous, CancellationToken.None);
            return await FinishAsync(op with { InstanceUsable = usable }, OperationState.Failed, description, ex, CancellationToken.None);
        }
    }

    private List<Step> ApplySteps(ServiceInstance target)
    {
        var engine = engines.Engine(target.ServiceId);
        return
        [
            new("save", "recording the new plan and parameters", ct => SaveAsync(target, ct)),
            new("stop", "restarting the server", ct => StopAsync(engine, target, ct)),

            // The place first (on Kubernetes a new pod), then the files written into it: a rollback after a place that
            // could not be made (a pod the cluster refuses) makes the previous one again before it writes.
            new("reshape", "giving the server the plan's resources", ct => ReshapeAsync(engines.Context(target), ct), Rerun: true),
            new("configure", "writing the configuration", ct => engine.ConfigureAsync(engines.Context(target), ct), Rerun: true),
            new("start", "waiting for the server", ct => EnsureRunningAsync(target, ct), Rerun: true),
        ];
    }

    private async Task<Operation> DeprovisionAsync(Operation op, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(op, cancellationToken);
        var paths = Runtime.PathsFor(instance.InternalId);
        var steps = new List<Step>
        {
            new("stop", "stopping the server", ct => StopAsync(engines.Engine(instance.ServiceId), instance, ct), Rerun: true),
            new("delete", "deleting the instance's files", ct => Runtime.DeleteAsync(paths, ct), Rerun: true),
        };
        try
        {
            op = await RunStepsAsync(op, steps, cancellationToken);
            foreach (var binding in await store.ListBindingsAsync(instance.Id, cancellationToken))
            {
                await store.DeleteBindingAsync(instance.Id, binding.Id, cancellationToken);
            }

            await ha.ForgetAsync(instance.Id, cancellationToken);
            await SaveAsync(instance with { State = InstanceState.Deleted, Port = null }, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, "instance deleted", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var usable = Runtime.GetStatus(paths) is ProcessStatus.Running;
            if (!usable)
            {
                await SaveAsync(instance with { State = InstanceState.Failed }, CancellationToken.None);
            }

            return await FinishAsync(op with { InstanceUsable = usable }, OperationState.Failed, await FailureAsync("deleting", op, ex, instance), ex, CancellationToken.None);
        }
    }

    private async Task<Operation> BindAsync(Operation op, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(op, cancellationToken);
        var binding = await store.GetBindingAsync(instance.Id, op.BindingId!, cancellationToken)
            ?? throw new InvalidOperationException($"binding {op.BindingId} of operation {op.Id} is missing");
        var engine = engines.Engine(instance.ServiceId);
        try
        {
            op = await RunStepsAsync(op, [new("credentials", "creating credentials", ct => ha.ForEachUserStoreAsync(instance, c => engine.CreateCredentialsAsync(c, binding, ct), ct), Rerun: true)], cancellationToken);
            await store.SaveBindingAsync(binding with { State = BindingState.Created }, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, "binding created", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ha.ForEachUserStoreAsync(instance, c => engine.RevokeCredentialsAsync(c, binding, CancellationToken.None), CancellationToken.None);
            }
            catch (Exception)
            {
                // The instance may be unreachable; the role/user was then never usable either.
            }

            await store.DeleteBindingAsync(instance.Id, binding.Id, CancellationToken.None);
            return await FinishAsync(op with { InstanceUsable = true }, OperationState.Failed, await FailureAsync("binding", op, ex, instance), ex, CancellationToken.None);
        }
    }

    private async Task<Operation> UnbindAsync(Operation op, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(op, cancellationToken);
        var binding = await store.GetBindingAsync(instance.Id, op.BindingId!, cancellationToken);
        if (binding is null)
        {
            return await FinishAsync(op, OperationState.Succeeded, "binding deleted", null, cancellationToken);
        }

        var engine = engines.Engine(instance.ServiceId);
        try
        {
            op = await RunStepsAsync(op, [new("revoke", "revoking credentials", ct => ha.ForEachUserStoreAsync(instance, c => engine.RevokeCredentialsAsync(c, binding, ct), ct), Rerun: true)], cancellationToken);
            await store.DeleteBindingAsync(instance.Id, binding.Id, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, "binding deleted", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The credentials may still work: the binding stays, so the platform can retry the unbind.
            await store.SaveBindingAsync(binding with { State = BindingState.Created }, CancellationToken.None);
            return await FinishAsync(op with { InstanceUsable = true }, OperationState.Failed, await FailureAsync("unbinding", op, ex, instance), ex, CancellationToken.None);
        }
    }

    private async Task<Operation> RestoreAsync(Operation op, CancellationToken cancellationToken)
    {
        if (Backups.Wal.PointInTimePayload.TryRead(op.PayloadJson) is { } pointInTime)
        {
            return await PointInTimeRestoreAsync(op, pointInTime, cancellationToken);
        }

        var payload = JsonSerializer.Deserialize<RestorePayload>(op.PayloadJson!)!;
        var instance = await InstanceAsync(op, cancellationToken);
        var engine = engines.Engine(instance.ServiceId);
        var backup = await store.GetBackupAsync(payload.BackupId, cancellationToken)
            ?? throw new InvalidOperationException($"backup {payload.BackupId} of operation {op.Id} is missing");
        if (AsPointInTime(backup, engine) is { } immediate)
        {
            return await PointInTimeRestoreAsync(op, immediate, cancellationToken);
        }

        var method = backups.Method(engine.Offering.Name, backup.Kind);
        var context = engines.Context(instance);
        var host = new RestoreHost(backup, context, engine, backups, progress.Track(op.Id), ct => EnsureRunningAsync(instance, ct), options.StopGrace);
        try
        {
            op = await RunStepsAsync(
                op,
                [
                    new("restore", $"restoring backup {backup.Id} ({backup.Kind})", ct => method.RestoreAsync(context, host, ct), Rerun: true),
                    CredentialsStep(instance, context),
                    new("verify", "checking the restored server", ct => EnsureRunningAsync(instance, ct), Rerun: true),
                ],
                cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, $"restored from backup {backup.Id} taken {backup.StartedAt:u}", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var usable = Runtime.GetStatus(context.Paths) is ProcessStatus.Running;
            return await FinishAsync(op with { InstanceUsable = usable }, OperationState.Failed, await FailureAsync("restoring", op, ex, instance) + (usable ? "; the instance keeps its data from before the restore" : string.Empty), ex, CancellationToken.None);
        }
        finally
        {
            progress.Forget(op.Id);
        }
    }

    private Task ReshapeAsync(EngineContext context, CancellationToken cancellationToken) => Runtime.ReshapeAsync(context.Paths, context.Shape, cancellationToken);

    private async Task StopAsync(IDataServiceEngine engine, ServiceInstance instance, CancellationToken cancellationToken)
    {
        var context = engines.Context(instance);
        await Runtime.StopAsync(context.Paths, engine.Launch(context).StopSignal, options.StopGrace, cancellationToken);
    }

    private async Task WaitReadyAsync(IDataServiceEngine engine, EngineContext context, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(options.StartupTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        Exception? last = null;
        var started = time.GetTimestamp();
        while (true)
        {
            var status = Runtime.GetStatus(context.Paths);
            if (status is not ProcessStatus.Running)
            {
                throw new StewardException(ErrorCode.Internal, $"the server {ServerLog.Describe(status)} during startup; last log lines: {ServerLog.Tail(context.Paths)}");
            }

            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                probe.CancelAfter(TimeSpan.FromSeconds(5));
                await engine.ProbeAsync(context, probe.Token);
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }

            try
            {
                // Short: a server usually answers within milliseconds of its first refusal (Redis) or tens of them (PostgreSQL).
                await Task.Delay(TimeSpan.FromMilliseconds(time.GetElapsedTime(started) < TimeSpan.FromMilliseconds(250) ? 3 : 25), time, linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new StewardException(ErrorCode.Internal, $"the server did not answer within {options.StartupTimeout.TotalSeconds:0} s ({last?.Message}); last log lines: {ServerLog.Tail(context.Paths)}");
            }
        }
    }

    private async Task<Operation> RunStepsAsync(Operation op, IReadOnlyList<Step> steps, CancellationToken cancellationToken)
    {
        var done = op.Step is null ? -1 : steps.ToList().FindIndex(s => s.Name == op.Step);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (i <= done && !step.Rerun)
            {
                continue;
            }

            op = op with { Description = step.Description, UpdatedAt = time.GetUtcNow() };
            await store.SaveOperationAsync(op, cancellationToken);
            Log.OperationStep(logger, op.Id, op.Kind.ToString(), op.InstanceId, step.Description);
            await step.Run(cancellationToken);
            op = op with { Step = step.Name, UpdatedAt = time.GetUtcNow() };
            await store.SaveOperationAsync(op, cancellationToken);
        }

        return op;
    }

    private async Task<Operation> FinishAsync(Operation op, OperationState state, string description, Exception? error, CancellationToken cancellationToken)
    {
        op = op with { State = state, Description = description, UpdatedAt = time.GetUtcNow() };
        await store.SaveOperationAsync(op, cancellationToken);
        if (state == OperationState.Succeeded)
        {
            Log.OperationSucceeded(logger, op.Id, op.Kind.ToString(), op.InstanceId);
        }
        else
        {
            Log.OperationFailed(logger, op.Id, op.Kind.ToString(), op.InstanceId, description, error);
        }

        return op;
    }

    private async Task<string> FailureAsync(string verb, Operation op, Exception ex, ServiceInstance instance)
    {
        // The step that failed was recorded by RunStepsAsync; the caller's copy predates it.
        op = await store.GetOperationAsync(op.Id, CancellationToken.None) ?? op;
        var reason = ex is StewardException or Steward.Backup.Pipeline.BackupException ? ex.Message : $"{ex.Message}; last log lines: {ServerLog.Tail(Runtime.PathsFor(instance.InternalId))}";
        return $"{verb} failed while {op.Description}: {reason}";
    }

    private async Task<ServiceInstance> InstanceAsync(Operation op, CancellationToken cancellationToken) =>
        await store.GetInstanceAsync(op.InstanceId, cancellationToken)
        ?? throw new InvalidOperationException($"instance {op.InstanceId} of operation {op.Id} is missing");

    private Task SaveAsync(ServiceInstance instance, CancellationToken cancellationToken) =>
        store.SaveInstanceAsync(instance with { UpdatedAt = time.GetUtcNow() }, cancellationToken);
}

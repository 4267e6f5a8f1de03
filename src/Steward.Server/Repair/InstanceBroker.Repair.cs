using System.Text.Json;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Security;
using Steward.Server.Repair;

namespace Steward.Server.Broker;

/// <summary>Repair: the rules for starting one (the plan is made by <see cref="RepairPlanner"/> before).</summary>
internal sealed partial class InstanceBroker
{
    /// <summary>
    /// Records and queues a repair of <paramref name="planned"/>, whose copy listens on <paramref name="sandboxPort"/>;
    /// refused, changing nothing, while another operation or a backup of the instance runs. Returns the operation
    /// and the incident it is recorded in (the one the damage was found in, when there is one).
    /// </summary>
    public async Task<(string Operation, string Incident)> StartRepairAsync(ServiceInstance planned, RepairPlan plan, int sandboxPort, RequestIdentity identity, CancellationToken cancellationToken)
    {
        using var _ = await gate.AcquireAsync(cancellationToken);
        var instance = await LiveInstanceAsync(planned.Id, cancellationToken);
        await RequireNoOperationAsync(instance, cancellationToken);
        if (instance.State != InstanceState.Ready)
        {
            throw StewardException.Concurrency($"instance {instance.Id} is {instance.State.ToString().ToLowerInvariant()}; only a ready instance can be repaired");
        }

        if (backups.IsRunning(instance.Id))
        {
            throw StewardException.Concurrency($"a backup of instance {instance.Id} is running; repair once it has finished");
        }

        var incidentId = plan.FromIncident ?? "inc-" + Secrets.Token(12);
        var op = operations.Create(instance.Id, null, OperationKind.Repair, $"repair of {plan.Describe()} requested", identity);
        op = op with { PayloadJson = JsonSerializer.Serialize(new RepairPayload(plan, incidentId, "repair-" + op.Id, sandboxPort, $"{instance.InternalId}.{op.Id}.pages")) };
        await store.SaveOperationAsync(op, cancellationToken);
        runner.Enqueue(op);
        return (op.Id, incidentId);
    }
}

using System.Text.Json;
using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Security;
using Steward.Server.Backups;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.Server.Supervision;
using Steward.Supervision;
using Steward.State;

namespace Steward.Server.Broker;

/// <summary>
/// The OSB service-instance rules: what a request may do given what Steward has recorded. Decisions and
/// the records they create happen under one lock, so two requests never both start work on an instance;
/// the work itself runs in the <see cref="OperationRunner"/>.
/// </summary>
internal sealed partial class InstanceBroker(IStateStore store, EngineRegistry engines, OperationRunner runner, BrokerLock gate, OperationFactory operations, HealthRegistry health, BackupService backups, Dashboard.DashboardUrls dashboard, Backups.Wal.RecoveryPlanner planner, MachineCapacity capacity, TimeProvider time)
{
    public async Task<IResult> ProvisionAsync(string id, RequestBody body, bool acceptsIncomplete, RequestIdentity identity, CancellationToken cancellationToken)
    {
        RequireValidId("instance_id", id);
        var serviceId = body.RequiredString("service_id");
        var planId = body.RequiredString("plan_id");
        var plan = engines.Plan(serviceId, planId);

        // Deprecated in favour of context since 2.15, yet still REQUIRED non-empty strings in 2.17.
        var organization = body.RequiredString("organization_guid");
        var space = body.RequiredString("space_guid");
        var context = body.OptionalObject("context");
        var (clone, parameters) = CloneRequest.Extract(body.OptionalObject("parameters"));
        RequireValid(plan.ProvisionSchema.Validate(JsonCanonical.Element(parameters)));
        var maintenance = body.MaintenanceVersion();
        if (maintenance is not null && maintenance != plan.MaintenanceInfo.Version)
        {
            throw new StewardException(ErrorCode.MaintenanceInfoConflict, $"maintenance_info.version {maintenance} does not match the plan's {plan.MaintenanceInfo.Version}");
        }

        if (!acceptsIncomplete)
        {
            throw new StewardException(ErrorCode.AsyncRequired, "This service plan requires client support for asynchronous service operations (accepts_incomplete=true).");
        }

        var normalized = JsonCanonical.Normalize(parameters);
        using var _ = await gate.AcquireAsync(cancellationToken);
        var existing = await store.GetInstanceAsync(id, cancellationToken);
        if (existing is not null && existing.State != InstanceState.Deleted)
        {
            var identical = existing.ServiceId == serviceId && existing.PlanId == planId && existing.ParametersJson == normalized
                && existing.OrganizationGuid == organization && existing.SpaceGuid == space
                && JsonCanonical.Normalize(existing.ContextJson) == JsonCanonical.Normalize(context);
            if (!identical)
            {
                throw new StewardException(ErrorCode.Conflict, $"instance {id} already exists with a different service, plan, parameters, organization_guid, space_guid or context");
            }

            switch (existing.State)
            {
                case InstanceState.Ready:
                    return OsbJson.Result(new { dashboard_url = dashboard.Instance(id) });
                case InstanceState.Provisioning:
                    var current = await store.LatestInstanceOperationAsync(id, cancellationToken);
                    return OsbJson.Result(new { dashboard_url = dashboard.Instance(id), operation = current?.Id }, StatusCodes.Status202Accepted);
                case InstanceState.Deprovisioning:
                    throw StewardException.Concurrency($"instance {id} is being deleted");
                default:
                    break; // Failed: an identical request provisions it again from scratch.
            }
        }

        var (cloneSource, clonePoint) = clone is null ? (null, null) : await CloneSourceAsync(clone, serviceId, planId, organization, space, cancellationToken);
        var (servers, ports) = MachineCapacity.Needs(plan);
        await capacity.RequireRoomAsync(servers, ports, cancellationToken);
        if (existing is not null)
        {
            await store.PurgeInstanceAsync(id, cancellationToken);
        }

        var now = time.GetUtcNow();
        var instance = new ServiceInstance
        {
            Id = id,
            InternalId = OperationIds.NewInternalInstance(),
            ServiceId = serviceId,
            PlanId = planId,
            ParametersJson = normalized,
            ContextJson = context,
            OrganizationGuid = organization,
            SpaceGuid = space,
            MaintenanceVersion = plan.MaintenanceInfo.Version,
            AdminUser = "steward_admin",
            AdminPassword = Secrets.Password(),
            State = InstanceState.Provisioning,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var op = operations.Create(id, null, OperationKind.Provision, cloneSource is null ? "provisioning requested" : $"clone of {cloneSource.InstanceId} from backup {cloneSource.Id}{(clonePoint is null ? string.Empty : $" at {clonePoint.Target}")} requested", identity, cloneSource is null ? null : JsonSerializer.Serialize(new ClonePayload(cloneSource.InstanceId, cloneSource.Id, clonePoint)));
        await store.SaveInstanceAsync(instance, cancellationToken);
        await store.SaveOperationAsync(op, cancellationToken);
        runner.Enqueue(op);
        return OsbJson.Result(new { dashboard_url = dashboard.Instance(id), operation = op.Id }, StatusCodes.Status202Accepted);
    }

    public async Task<IResult> UpdateAsync(string id, RequestBody body, bool acceptsIncomplete, RequestIdentity identity, CancellationToken cancellationToken)
    {
        RequireValidId("instance_id", id);
        var serviceId = body.RequiredString("service_id");
        var requestedPlan = body.OptionalString("plan_id");
        var parameters = body.OptionalObject("parameters");
        var maintenance = body.MaintenanceVersion();
        body.CheckObjects("context", "previous_values");

        // {"rebuild": true} (or {"rebuild": {"backup_id": …}}) through a platform CLI: a rebuild, not a parameter change.
        if (JsonCanonical.Element(parameters) is { ValueKind: JsonValueKind.Object } given && given.TryGetProperty("rebuild", out var rebuild))
        {
            if (requestedPlan is not null || given.EnumerateObject().Count() > 1)
            {
                throw StewardException.BadRequest("parameters.rebuild cannot be combined with a plan change or other parameters; send it alone");
            }

            if (!acceptsIncomplete)
            {
                throw new StewardException(ErrorCode.AsyncRequired, "This service plan requires client support for asynchronous service operations (accepts_incomplete=true).");
            }

            var instanceToRebuild = await store.GetInstanceAsync(id, cancellationToken);
            if (instanceToRebuild is not null && instanceToRebuild.ServiceId != serviceId)
            {
                throw StewardException.BadRequest($"service_id '{serviceId}' is not the service of instance {id}");
            }

            return await RebuildThroughUpdateAsync(id, RebuildRequest.FromParameter(rebuild), identity, cancellationToken);
        }

        using var _ = await gate.AcquireAsync(cancellationToken);
        var instance = await LiveInstanceAsync(id, cancellationToken);
        if (instance.ServiceId != serviceId)
        {
            throw StewardException.BadRequest($"service_id '{serviceId}' is not the service of instance {id}");
        }

        // A re-sent PATCH while its update still runs is answered like the first one (spec: 202, same operation).
        var latest = await store.LatestInstanceOperationAsync(id, cancellationToken);
        if (latest is { Kind: OperationKind.Update, State: OperationState.InProgress, PayloadJson: { } pendingJson })
        {
            var pending = JsonSerializer.Deserialize<UpdatePayload>(pendingJson)!;
            if ((requestedPlan ?? pending.PreviousPlanId) == pending.PlanId && JsonCanonical.Merge(pending.PreviousParametersJson, parameters) == pending.ParametersJson)
            {
                return OsbJson.Result(new { operation = latest.Id }, StatusCodes.Status202Accepted);
            }
        }

        var engine = engines.Engine(serviceId);
        var plan = engines.Plan(serviceId, requestedPlan ?? instance.PlanId);
        if (plan.Id != instance.PlanId && !engine.Offering.PlanUpdateable)
        {
            throw StewardException.BadRequest($"service '{engine.Offering.Name}' does not support plan changes");
        }

        RequireValid(plan.UpdateSchema.Validate(JsonCanonical.Element(parameters)));
        var merged = JsonCanonical.Merge(instance.ParametersJson, parameters);
        RequireValid(plan.UpdateSchema.Validate(JsonCanonical.Element(merged)));
        if (maintenance is not null && maintenance != plan.MaintenanceInfo.Version)
        {
            throw new StewardException(ErrorCode.MaintenanceInfoConflict, $"maintenance_info.version {maintenance} does not match the plan's {plan.MaintenanceInfo.Version}");
        }

        await RequireIdleAsync(instance, cancellationToken);
        if (plan.Id == instance.PlanId && merged == instance.ParametersJson)
        {
            return OsbJson.Empty();
        }

        var currentPlan = engines.Plan(serviceId, instance.PlanId);
        HighAvailability.HaRules.RequireUpdatable(currentPlan, plan, merged != instance.ParametersJson, engines.Runtime is Steward.Runtime.IMemberPlaces);
        if (plan.Members > currentPlan.Members)
        {
            var (servers, ports) = (MachineCapacity.Needs(plan).Servers - currentPlan.Members, MachineCapacity.Needs(plan).Ports - MachineCapacity.Needs(currentPlan).Ports);
            await capacity.RequireRoomAsync(servers, ports, cancellationToken);
        }

        if (!acceptsIncomplete)
        {
            throw new StewardException(ErrorCode.AsyncRequired, "This service plan requires client support for asynchronous service operations (accepts_incomplete=true).");
        }

        var payload = JsonSerializer.Serialize(new UpdatePayload(plan.Id, merged, instance.PlanId, instance.ParametersJson));
        var op = operations.Create(id, null, OperationKind.Update, "update requested", identity, payload);
        await store.SaveOperationAsync(op, cancellationToken);
        runner.Enqueue(op);
        return OsbJson.Result(new { operation = op.Id }, StatusCodes.Status202Accepted);
    }

    public async Task<IResult> DeprovisionAsync(string id, string? serviceId, string? planId, bool acceptsIncomplete, RequestIdentity identity, CancellationToken cancellationToken)
    {
        RequireValidId("instance_id", id);
        RequireQuery("service_id", serviceId);
        RequireQuery("plan_id", planId);
        using var _ = await gate.AcquireAsync(cancellationToken);
        var instance = await store.GetInstanceAsync(id, cancellationToken);
        if (instance is null || instance.State == InstanceState.Deleted)
        {
            return OsbJson.Empty(StatusCodes.Status410Gone);
        }

        if (instance.ServiceId != serviceId || instance.PlanId != planId)
        {
            throw StewardException.BadRequest($"service_id and plan_id must be those of instance {id}");
        }

        if (!acceptsIncomplete)
        {
            throw new StewardException(ErrorCode.AsyncRequired, "This service plan requires client support for asynchronous service operations (accepts_incomplete=true).");
        }

        if (instance.State == InstanceState.Deprovisioning)
        {
            var current = await store.LatestInstanceOperationAsync(id, cancellationToken);
            return OsbJson.Result(new { operation = current?.Id }, StatusCodes.Status202Accepted);
        }

        // Failed and quarantined instances can be deleted too: that is how a platform cleans up after them.
        await RequireNoOperationAsync(instance, cancellationToken);
        foreach (var binding in await store.ListBindingsAsync(id, cancellationToken))
        {
            if (binding.State != BindingState.Created)
            {
                throw StewardException.Concurrency($"binding {binding.Id} of instance {id} is being changed");
            }
        }

        // A running backup of an instance being deleted can only fail: stop it now.
        backups.CancelInstance(id);
        var op = operations.Create(id, null, OperationKind.Deprovision, "deletion requested", identity, null);
        await store.SaveInstanceAsync(instance with { State = InstanceState.Deprovisioning, UpdatedAt = op.CreatedAt }, cancellationToken);
        await store.SaveOperationAsync(op, cancellationToken);
        runner.Enqueue(op);
        return OsbJson.Result(new { operation = op.Id }, StatusCodes.Status202Accepted);
    }

    /// <summary>Restores an instance from one of its own succeeded backups, as an asynchronous operation.</summary>
    public async Task<IResult> RestoreAsync(string id, string backupId, RequestIdentity identity, CancellationToken cancellationToken)
    {
        using var _ = await gate.AcquireAsync(cancellationToken);
        var instance = await LiveInstanceAsync(id, cancellationToken);
        var backup = await store.GetBackupAsync(backupId, cancellationToken);
        if (backup is null || backup.InstanceId != id)
        {
            throw StewardException.NotFound($"instance {id} has no backup {backupId}");
        }

        if (backup.State != BackupState.Succeeded)
        {
            throw StewardException.BadRequest($"backup {backupId} {(backup.State == BackupState.Failed ? "failed" : "is still running")}; only a succeeded backup can be restored");
        }

        await RequireIdleAsync(instance, cancellationToken);
        HighAvailability.HaRules.RequireRestorable(engines.Plan(instance.ServiceId, instance.PlanId), engines.Engine(instance.ServiceId) is Steward.Engines.PostgreSql.PostgreSqlEngine { WalOptions: not null } && Steward.Server.Backups.Wal.RecoveryPlanner.BaseOf(backup) is not null, $"backup {backupId} ({backup.Kind})");
        if (backups.IsRunning(id))
        {
            throw StewardException.Concurrency($"a backup of instance {id} is running; restore once it has finished");
        }

        var op = operations.Create(id, null, OperationKind.Restore, $"restore of backup {backupId} requested", identity, JsonSerializer.Serialize(new RestorePayload(backupId)));
        await store.SaveOperationAsync(op, cancellationToken);
        runner.Enqueue(op);
        return OsbJson.Result(new { operation = op.Id }, StatusCodes.Status202Accepted);
    }

    /// <summary>Starts a restore whose payload <paramref name="plan"/> works out (and validates) under the same checks as a restore of a backup.</summary>
    public async Task<IResult> RestoreAsync(string id, Func<ServiceInstance, Task<(string Description, string PayloadJson)>> plan, RequestIdentity identity, CancellationToken cancellationToken)
    {
        using var _ = await gate.AcquireAsync(cancellationToken);
        var instance = await LiveInstanceAsync(id, cancellationToken);
        await RequireIdleAsync(instance, cancellationToken);
        if (backups.IsRunning(id))
        {
            throw StewardException.Concurrency($"a backup of instance {id} is running; restore once it has finished");
        }

        var (description, payload) = await plan(instance);
        var op = operations.Create(id, null, OperationKind.Restore, description, identity, payload);
        await store.SaveOperationAsync(op, cancellationToken);
        runner.Enqueue(op);
        return OsbJson.Result(new { operation = op.Id }, StatusCodes.Status202Accepted);
    }

    public async Task<IResult> GetAsync(string id, CancellationToken cancellationToken)
    {
        RequireValidId("instance_id", id);
        var instance = await store.GetInstanceAsync(id, cancellationToken);
        if (instance is null || instance.State is InstanceState.Deleted or InstanceState.Provisioning or InstanceState.Failed)
        {
            throw StewardException.NotFound($"instance {id} does not exist");
        }

        var latest = await store.LatestInstanceOperationAsync(id, cancellationToken);
        if (latest is { Kind: OperationKind.Update, State: OperationState.InProgress })
        {
            throw StewardException.Concurrency($"instance {id} is being updated");
        }

        var plan = engines.Plan(instance.ServiceId, instance.PlanId);
        return OsbJson.Result(new
        {
            service_id = instance.ServiceId,
            plan_id = instance.PlanId,
            dashboard_url = dashboard.Instance(id),
            parameters = JsonDocument.Parse(instance.ParametersJson).RootElement,
            maintenance_info = new { version = plan.MaintenanceInfo.Version, description = plan.MaintenanceInfo.Description },
            metadata = new { attributes = HealthAttributes(instance) },
        });
    }

    public async Task<IResult> LastOperationAsync(string id, string? operationId, CancellationToken cancellationToken)
    {
        RequireValidId("instance_id", id);
        var instance = await store.GetInstanceAsync(id, cancellationToken)
            ?? throw StewardException.NotFound($"instance {id} does not exist");
        var op = operationId is null
            ? await store.LatestInstanceOperationAsync(id, cancellationToken)
            : await store.GetOperationAsync(operationId, cancellationToken);
        if (op is null || op.InstanceId != id || op.BindingId is not null)
        {
            throw StewardException.BadRequest(operationId is null ? $"instance {id} has no operation" : $"operation '{operationId}' is not an operation of instance {id}");
        }

        if (instance.State == InstanceState.Deleted && op.Kind == OperationKind.Deprovision && op.State == OperationState.Succeeded)
        {
            return OsbJson.Empty(StatusCodes.Status410Gone);
        }

        // Whatever the last operation was, a failed (quarantined) or unhealthy instance is reported as not usable.
        var status = instance.State == InstanceState.Quarantined ? HealthStatus.Failed : health.Get(id)?.Status;
        if (op.State != OperationState.InProgress && status is HealthStatus.Failed or HealthStatus.Unhealthy)
        {
            op = op with { InstanceUsable = false };
        }

        return Describe(op);
    }

    private Dictionary<string, object?> HealthAttributes(ServiceInstance instance)
    {
        var h = health.Get(instance.Id);
        var status = instance.State == InstanceState.Quarantined ? HealthStatus.Failed : h?.Status ?? HealthStatus.Unknown;
        return new()
        {
            ["health"] = status.ToString().ToLowerInvariant(),
            ["health_detail"] = h?.Detail,
            ["last_check"] = h?.LastCheck,
        };
    }

    /// <summary>The last_operation body of an operation.</summary>
    public static IResult Describe(Operation op)
    {
        var result = OsbJson.Result(new
        {
            state = op.State.OsbName(),
            description = op.Description,
            instance_usable = op.State == OperationState.InProgress ? null : op.InstanceUsable,
            update_repeatable = op is { State: OperationState.Failed, Kind: OperationKind.Update } ? true : (bool?)null,
        });
        return result;
    }

    internal static void RequireValidId(string name, string id)
    {
        if (Identifiers.Problem(id) is { } problem)
        {
            throw StewardException.BadRequest($"{name} {problem}");
        }
    }

    internal static void RequireQuery(string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw StewardException.BadRequest($"query parameter '{name}' is required");
        }
    }

    internal static void RequireValid(IReadOnlyList<string> errors)
    {
        if (errors.Count > 0)
        {
            throw StewardException.BadRequest("invalid parameters: " + string.Join("; ", errors));
        }
    }

    private async Task<ServiceInstance> LiveInstanceAsync(string id, CancellationToken cancellationToken)
    {
        var instance = await store.GetInstanceAsync(id, cancellationToken);
        return instance is null || instance.State == InstanceState.Deleted
            ? throw StewardException.NotFound($"instance {id} does not exist")
            : instance;
    }

    private async Task RequireIdleAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        await RequireNoOperationAsync(instance, cancellationToken);
        if (instance.State == InstanceState.Quarantined)
        {
            throw StewardException.Concurrency($"instance {instance.Id} is quarantined after a failure (see its incidents); delete it or rebuild it");
        }

        if (instance.State != InstanceState.Ready)
        {
            throw StewardException.Concurrency($"instance {instance.Id} is {instance.State.ToString().ToLowerInvariant()}");
        }
    }

    private async Task RequireNoOperationAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var latest = await store.LatestInstanceOperationAsync(instance.Id, cancellationToken);
        if (latest is { State: OperationState.InProgress })
        {
            throw StewardException.Concurrency($"instance {instance.Id} has an operation in progress ({latest.Kind.ToString().ToLowerInvariant()}: {latest.Description})");
        }
    }
}

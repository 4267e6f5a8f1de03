using System.Text.Json;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Security;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Broker;

/// <summary>
/// The OSB binding rules. Bindings are synchronous (201 with credentials), yet each is a recorded
/// operation, so a broker killed mid-bind finishes or undoes it at its next start.
/// </summary>
internal sealed class BindingBroker(IStateStore store, EngineRegistry engines, OperationRunner runner, BrokerLock gate, OperationFactory operations, StewardOptions options, TimeProvider time, CredentialKey keys, HighAvailability.HaCredentials ha)
{
    public async Task<IResult> CreateAsync(string instanceId, string bindingId, RequestBody body, RequestIdentity identity, CancellationToken cancellationToken)
    {
        InstanceBroker.RequireValidId("instance_id", instanceId);
        InstanceBroker.RequireValidId("binding_id", bindingId);
        var serviceId = body.RequiredString("service_id");
        var planId = body.RequiredString("plan_id");
        var plan = engines.Plan(serviceId, planId);
        var parameters = body.OptionalObject("parameters");
        InstanceBroker.RequireValid(plan.BindSchema.Validate(JsonCanonical.Element(parameters)));
        var bindResource = body.OptionalObject("bind_resource");
        body.CheckObjects("context");
        var appGuid = body.OptionalString("app_guid") ?? AppGuid(bindResource);
        var normalized = JsonCanonical.Normalize(parameters);

        Operation op;
        ServiceBinding binding;
        ServiceInstance instance;
        using (await gate.AcquireAsync(cancellationToken))
        {
            instance = await store.GetInstanceAsync(instanceId, cancellationToken) is { State: not InstanceState.Deleted } found
                ? found
                : throw StewardException.NotFound($"instance {instanceId} does not exist");
            if (instance.ServiceId != serviceId || instance.PlanId != planId)
            {
                throw StewardException.BadRequest($"service_id and plan_id must be those of instance {instanceId}");
            }

            var existing = await store.FindBindingAsync(bindingId, cancellationToken);
            if (existing is not null)
            {
                var identical = existing.InstanceId == instanceId && existing.ParametersJson == normalized && existing.AppGuid == appGuid;
                if (!identical)
                {
                    throw new StewardException(ErrorCode.Conflict, $"binding {bindingId} already exists with different attributes");
                }

                return existing.State == BindingState.Created
                    ? OsbJson.Result(new { credentials = await CredentialsAsync(instance, existing, cancellationToken) })
                    : throw StewardException.Concurrency($"binding {bindingId} is being changed");
            }

            var latest = await store.LatestInstanceOperationAsync(instanceId, cancellationToken);
            if (instance.State != InstanceState.Ready || latest is { State: OperationState.InProgress })
            {
                throw StewardException.Concurrency($"instance {instanceId} is {(latest is { State: OperationState.InProgress } ? "busy: " + latest.Description : instance.State.ToString().ToLowerInvariant())}");
            }

            var username = OperationIds.NewBindingUser();
            binding = new ServiceBinding
            {
                Id = bindingId,
                InstanceId = instanceId,
                ServiceId = serviceId,
                PlanId = planId,
                ParametersJson = normalized,
                AppGuid = appGuid,
                Username = username,
                Password = Secrets.Password(),

                // Derived from the credentials key: the state database keeps only its hash.
                ApiToken = keys.ApiToken(instanceId, bindingId, username),
                State = BindingState.Creating,
                CreatedAt = time.GetUtcNow(),
            };
            op = operations.Create(instanceId, bindingId, OperationKind.Bind, "binding requested", identity);
            await store.SaveBindingAsync(binding, cancellationToken);
            await store.SaveOperationAsync(op, cancellationToken);
        }

        op = await runner.RunNowAsync(op);
        if (op.State != OperationState.Succeeded)
        {
            throw new StewardException(ErrorCode.Internal, op.Description);
        }

        return OsbJson.Result(new { credentials = await CredentialsAsync(instance, binding, cancellationToken) }, StatusCodes.Status201Created);
    }

    public async Task<IResult> DeleteAsync(string instanceId, string bindingId, string? serviceId, string? planId, RequestIdentity identity, CancellationToken cancellationToken)
    {
        InstanceBroker.RequireValidId("instance_id", instanceId);
        InstanceBroker.RequireValidId("binding_id", bindingId);
        InstanceBroker.RequireQuery("service_id", serviceId);
        InstanceBroker.RequireQuery("plan_id", planId);
        Operation op;
        using (await gate.AcquireAsync(cancellationToken))
        {
            var binding = await store.GetBindingAsync(instanceId, bindingId, cancellationToken);
            if (binding is null)
            {
                return OsbJson.Empty(StatusCodes.Status410Gone);
            }

            // After a plan change the platform sends the instance's current plan; the binding's own is valid too.
            var instance = await store.GetInstanceAsync(instanceId, cancellationToken);
            if (binding.ServiceId != serviceId || (binding.PlanId != planId && instance?.PlanId != planId))
            {
                throw StewardException.BadRequest($"service_id and plan_id must be those of binding {bindingId} or its instance");
            }

            var latest = await store.LatestInstanceOperationAsync(instanceId, cancellationToken);
            if (binding.State != BindingState.Created || latest is { State: OperationState.InProgress })
            {
                throw StewardException.Concurrency($"binding {bindingId} or its instance has an operation in progress");
            }

            op = operations.Create(instanceId, bindingId, OperationKind.Unbind, "unbinding requested", identity);
            await store.SaveBindingAsync(binding with { State = BindingState.Deleting }, cancellationToken);
            await store.SaveOperationAsync(op, cancellationToken);
        }

        op = await runner.RunNowAsync(op);
        return op.State == OperationState.Succeeded
            ? OsbJson.Empty()
            : throw new StewardException(ErrorCode.Internal, op.Description) { InstanceUsable = true };
    }

    public async Task<IResult> GetAsync(string instanceId, string bindingId, CancellationToken cancellationToken)
    {
        InstanceBroker.RequireValidId("instance_id", instanceId);
        InstanceBroker.RequireValidId("binding_id", bindingId);
        var binding = await store.GetBindingAsync(instanceId, bindingId, cancellationToken);
        var instance = await store.GetInstanceAsync(instanceId, cancellationToken);
        if (binding is not { State: BindingState.Created } || instance is null)
        {
            throw StewardException.NotFound($"binding {bindingId} of instance {instanceId} does not exist");
        }

        return OsbJson.Result(new
        {
            credentials = await CredentialsAsync(instance, binding, cancellationToken),
            parameters = JsonDocument.Parse(binding.ParametersJson).RootElement,
        });
    }

    public async Task<IResult> LastOperationAsync(string instanceId, string bindingId, CancellationToken cancellationToken)
    {
        InstanceBroker.RequireValidId("instance_id", instanceId);
        InstanceBroker.RequireValidId("binding_id", bindingId);
        var op = await store.LatestBindingOperationAsync(instanceId, bindingId, cancellationToken)
            ?? throw StewardException.NotFound($"binding {bindingId} of instance {instanceId} has no operation");
        if (op is { Kind: OperationKind.Unbind, State: OperationState.Succeeded })
        {
            return OsbJson.Empty(StatusCodes.Status410Gone);
        }

        return InstanceBroker.Describe(op);
    }

    /// <summary>
    /// The engine's credentials plus the binding's instance-scoped API access: the developer's self-service
    /// path to Steward's API for this instance (and only this one).
    /// </summary>
    private async Task<Dictionary<string, object>> CredentialsAsync(ServiceInstance instance, ServiceBinding binding, CancellationToken cancellationToken)
    {
        var credentials = await ha.DecorateAsync(instance, new Dictionary<string, object>(engines.Engine(instance.ServiceId).Credentials(engines.Context(instance), binding)), cancellationToken);
        if (binding.ApiToken is { } token)
        {
            credentials["steward_api"] = new Dictionary<string, string>
            {
                ["url"] = $"{options.Listen.TrimEnd('/')}/api/v1/instances/{Uri.EscapeDataString(instance.Id)}",
                ["token"] = token,
            };
        }

        return credentials;
    }

    private static string? AppGuid(string? bindResource)
    {
        if (bindResource is null)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(bindResource);
        return doc.RootElement.TryGetProperty("app_guid", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}

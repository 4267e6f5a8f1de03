using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Api;

/// <summary>
/// Steward's own read API beside OSB: what the CLI lists and shows. It never returns credentials; a
/// binding's credentials come only from the OSB bind and fetch-binding calls.
/// </summary>
internal static class InstanceApi
{
    public static IEndpointRouteBuilder MapInstanceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1");
        api.MapGet("/instances", async (IStateStore store, EngineRegistry engines, CancellationToken ct) =>
        {
            var list = new List<object>();
            foreach (var instance in await store.ListInstancesAsync(ct))
            {
                list.Add(await DescribeAsync(instance, store, engines, ct));
            }

            return OsbJson.Result(new { instances = list });
        });
        api.MapGet("/instances/{instanceId}", async (string instanceId, IStateStore store, EngineRegistry engines, CancellationToken ct) =>
        {
            var instance = await store.GetInstanceAsync(instanceId, ct);
            return instance is null || instance.State == InstanceState.Deleted
                ? throw StewardException.NotFound($"instance {instanceId} does not exist")
                : OsbJson.Result(await DescribeAsync(instance, store, engines, ct));
        });
        return app;
    }

    private static async Task<object> DescribeAsync(ServiceInstance instance, IStateStore store, EngineRegistry engines, CancellationToken ct)
    {
        var engine = engines.Engine(instance.ServiceId);
        var plan = engine.Offering.FindPlan(instance.PlanId);
        var status = engines.Runtime.GetStatus(engines.Runtime.PathsFor(instance.InternalId));
        var last = await store.LatestInstanceOperationAsync(instance.Id, ct);
        var bindings = await store.ListBindingsAsync(instance.Id, ct);
        return new
        {
            id = instance.Id,
            service = engine.Offering.Name,
            service_id = instance.ServiceId,
            plan = plan?.Name,
            plan_id = instance.PlanId,
            state = instance.State.ToString().ToLowerInvariant(),
            host = "127.0.0.1",
            port = instance.Port,
            directory = engines.Runtime.PathsFor(instance.InternalId).Root,
            parameters = System.Text.Json.JsonDocument.Parse(instance.ParametersJson).RootElement,
            process = new
            {
                status = status switch
                {
                    ProcessStatus.Running => "running",
                    ProcessStatus.Exited => "exited",
                    _ => "not running",
                },
                pid = (status as ProcessStatus.Running)?.Pid,
                detail = ServerLog.Describe(status),
            },
            bindings = bindings.Select(b => new { id = b.Id, username = b.Username, state = b.State.ToString().ToLowerInvariant(), created_at = b.CreatedAt }),
            last_operation = last is null ? null : new
            {
                id = last.Id,
                kind = last.Kind.ToString().ToLowerInvariant(),
                state = last.State switch { OperationState.InProgress => "in progress", OperationState.Succeeded => "succeeded", _ => "failed" },
                description = last.Description,
                originating_identity = last.OriginatingIdentity,
                updated_at = last.UpdatedAt,
            },
            created_at = instance.CreatedAt,
        };
    }
}

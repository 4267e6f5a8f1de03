using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Backups.Schedules;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.Server.Supervision;
using Steward.Supervision;
using Steward.State;

namespace Steward.Server.Api;

/// <summary>
/// Steward's own read API beside OSB: what the CLI lists and shows. It never returns credentials; a
/// binding's credentials come only from the OSB bind and fetch-binding calls. Mapped on the scoped group:
/// an instance token reaches its own instance only (<see cref="InstanceScopeFilter"/>).
/// </summary>
internal static class InstanceApi
{
    public static IEndpointRouteBuilder MapInstanceApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/instances", async (Caller caller, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] HealthRegistry health, [FromServices] ScheduleView backups, [FromServices] HighAvailability.HaTopologyView ha, [FromServices] Rehearsals.RehearsalView rehearsals, CancellationToken ct) =>
        {
            var list = new List<object>();
            foreach (var instance in await store.ListInstancesAsync(ct))
            {
                if (caller.Sees(instance.Id))
                {
                    list.Add(await DescribeAsync(instance, store, engines, health, backups, ha, rehearsals, ct));
                }
            }

            return OsbJson.Result(new { instances = list });
        }).FiltersByCaller();
        api.MapGet("/instances/{instanceId}", async (string instanceId, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] HealthRegistry health, [FromServices] ScheduleView backups, [FromServices] HighAvailability.HaTopologyView ha, [FromServices] Rehearsals.RehearsalView rehearsals, CancellationToken ct) =>
        {
            var instance = await store.GetInstanceAsync(instanceId, ct);
            return instance is null || instance.State == InstanceState.Deleted
                ? throw StewardException.NotFound($"instance {instanceId} does not exist")
                : OsbJson.Result(await DescribeAsync(instance, store, engines, health, backups, ha, rehearsals, ct));
        });
        api.MapGet("/health", async (Caller caller, [FromServices] IStateStore store, [FromServices] HealthRegistry health, CancellationToken ct) =>
        {
            var list = new List<object>();
            foreach (var instance in await store.ListInstancesAsync(ct))
            {
                if (caller.Sees(instance.Id))
                {
                    list.Add(new { id = instance.Id, state = instance.State.ToString().ToLowerInvariant(), health = Health(instance, health) });
                }
            }

            return OsbJson.Result(new { instances = list });
        }).FiltersByCaller();
        api.MapGet("/incidents", async (Caller caller, HttpRequest request, [FromServices] IStateStore store, CancellationToken ct) =>
        {
            var instance = request.Query["instance"].FirstOrDefault() ?? caller.InstanceId;
            if (instance is not null && !caller.Sees(instance))
            {
                throw StewardException.NotFound($"instance {instance} does not exist");
            }

            var incidents = await store.ListIncidentsAsync(instance, ct);
            return OsbJson.Result(new { incidents = incidents.Select(Incident) });
        }).FiltersByCaller();
        api.MapGet("/incidents/{incidentId}", async (string incidentId, [FromServices] IStateStore store, CancellationToken ct) =>
        {
            var incident = await store.GetIncidentAsync(incidentId, ct);
            if (incident is null)
            {
                throw StewardException.NotFound($"incident {incidentId} does not exist");
            }

            return OsbJson.Result(Incident(incident));
        });
        return api;
    }

    private static async Task<object> DescribeAsync(ServiceInstance instance, IStateStore store, EngineRegistry engines, HealthRegistry health, ScheduleView backups, HighAvailability.HaTopologyView ha, Rehearsals.RehearsalView rehearsals, CancellationToken ct)
    {
        var offering = engines.Offering(instance.ServiceId);
        var plan = offering.FindPlan(instance.PlanId);
        var status = engines.Runtime.GetStatus(engines.Runtime.PathsFor(instance.InternalId));
        var last = await store.LatestInstanceOperationAsync(instance.Id, ct);
        var bindings = await store.ListBindingsAsync(instance.Id, ct);
        return new
        {
            id = instance.Id,
            service = offering.Name,
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
            health = Health(instance, health),
            backup = await backups.InstanceAsync(instance.Id, ct),
            rehearsal = await rehearsals.InstanceAsync(instance.Id, ct),
            members = await ha.MembersAsync(instance, ct),
            bindings = bindings.Select(b => new { id = b.Id, username = b.Username, state = b.State.ToString().ToLowerInvariant(), created_at = b.CreatedAt }),
            last_operation = last is null ? null : new
            {
                id = last.Id,
                kind = last.Kind.ToString().ToLowerInvariant(),
                state = last.State.OsbName(),
                description = last.Description,
                originating_identity = last.OriginatingIdentity,
                updated_at = last.UpdatedAt,
            },
            created_at = instance.CreatedAt,
        };
    }

    private static object Health(ServiceInstance instance, HealthRegistry registry)
    {
        var h = registry.Get(instance.Id);
        var status = instance.State == InstanceState.Quarantined ? HealthStatus.Failed : h?.Status ?? HealthStatus.Unknown;
        return new
        {
            status = status.ToString().ToLowerInvariant(),
            detail = h?.Detail ?? (instance.State == InstanceState.Ready ? "not checked yet" : instance.State.ToString().ToLowerInvariant()),
            last_check = h?.LastCheck,
            consecutive_failures = h?.ConsecutiveFailures ?? 0,
            open_incident = h?.OpenIncidentId,
        };
    }

    private static object Incident(Incident i) => new
    {
        id = i.Id,
        instance_id = i.InstanceId,
        @class = i.Class.Name(),
        state = i.State.ToString().ToLowerInvariant(),
        summary = i.Summary,
        restarts = i.Restarts,
        preserved_path = i.PreservedPath,
        opened_at = i.OpenedAt,
        updated_at = i.UpdatedAt,
        evidence = i.Evidence,
        timeline = i.Timeline.Select(e => new { at = e.At, kind = e.Kind, detail = e.Detail }),
    };
}

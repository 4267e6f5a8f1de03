using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.HighAvailability;
using Steward.Server.Operations;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.State;

namespace Steward.Server.HighAvailability;

/// <summary>
/// REST for highly available instances, on the scoped API group: <c>GET /api/v1/instances/{id}/members</c> (role, state, WAL position
/// and lag of each member, the stable endpoint) and <c>POST /api/v1/instances/{id}/switchover</c>.
/// </summary>
internal static class HaApi
{
    public static IEndpointRouteBuilder MapHaApi(this IEndpointRouteBuilder api)
    {
        // Scoped: an instance token sees the members of its own instance.
        api.MapGet("/instances/{instanceId}/members", async (string instanceId, [FromServices] IStateStore store, [FromServices] HaTopologyView view, CancellationToken ct) =>
        {
            var instance = await store.GetInstanceAsync(instanceId, ct);
            return instance is null || instance.State == InstanceState.Deleted
                ? throw StewardException.NotFound($"instance {instanceId} does not exist")
                : OsbJson.Result(await view.DescribeAsync(instance, ct));
        });

        // Maintenance of the topology is the operator's: the broker's credentials only.
        api.MapPost("/instances/{instanceId}/switchover", async (string instanceId, HttpContext http, [FromServices] HaSwitchover switchover, [FromServices] StewardOptions options, CancellationToken ct) =>
        {
            var to = http.Request.ContentLength is > 0 ? (await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct)).OptionalString("to") : null;
            var result = await switchover.SwitchoverAsync(instanceId, to, ct);
            return OsbJson.Result(new { from = result.From, to = result.To, at_lsn = result.AtLsn, timeline = result.Timeline, paused_seconds = result.PausedSeconds });
        }).RequireBroker();
        return api;
    }
}

/// <summary>The members of an instance as the API shows them.</summary>
internal sealed class HaTopologyView(IHaMemberStore members, EngineRegistry engines, HaLayout layout, HaRegistry registry)
{
    public async Task<object> DescribeAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var highlyAvailable = engines.HighlyAvailable(instance);
        var list = highlyAvailable ? await members.ListMembersAsync(instance.Id, cancellationToken) : [];
        return new
        {
            instance_id = instance.Id,
            highly_available = highlyAvailable,
            endpoint = new { host = highlyAvailable ? layout.Runtime.ClientHost(layout.Runtime.PathsFor(instance.InternalId)) : "127.0.0.1", port = instance.Port },
            members = list.Select(m => Member(instance, m)).ToList(),
        };
    }

    /// <summary>The members list alone, for the instance details; null for single-server plans.</summary>
    public async Task<IReadOnlyList<object>?> MembersAsync(ServiceInstance instance, CancellationToken cancellationToken) =>
        engines.HighlyAvailable(instance)
            ? [.. (await members.ListMembersAsync(instance.Id, cancellationToken)).Select(m => Member(instance, m))]
            : null;

    private object Member(ServiceInstance instance, HaMember m)
    {
        var view = registry.Get(instance.Id, m.Name);
        var status = layout.Runtime.GetStatus(layout.Member(instance, m));
        return new
        {
            name = m.Name,
            role = m.Role.ToString().ToLowerInvariant(),
            slot = m.Slot,
            port = m.Port,
            state = m.Role == MemberRole.Fenced ? "fenced" : view?.State ?? "unknown",
            pid = (status as ProcessStatus.Running)?.Pid,
            process = status switch
            {
                ProcessStatus.Running r => $"running as pid {r.Pid}",
                ProcessStatus.Exited => "ended",
                _ => "not running",
            },
            timeline = view?.Observation?.Timeline,
            lsn = Lsn.Format(view?.Observation is { } o ? (o.InRecovery ? o.ReplayLsn : o.FlushLsn) : null),
            receive_lsn = Lsn.Format(view?.Observation?.ReceiveLsn),
            lag_bytes = view?.LagBytes,
            last_check = view?.At,
            error = view?.Error,
            detail = m.Detail,
            incident = m.IncidentId,
            directory = layout.Member(instance, m).Root,
        };
    }
}

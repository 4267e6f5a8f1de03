using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.Instances;
using Steward.Server.Http;
using Steward.State;

namespace Steward.Server.Dashboard;

/// <summary>
/// POST /api/v1/instances/{id}/dashboard-links: a one-time login link to the instance's dashboard, valid for a
/// few minutes. On the scoped API group: the broker's credentials make one for any instance, an instance token
/// for its own. The link opens a session for that instance only; the broker's credentials never reach the browser.
/// </summary>
internal static class DashboardLinkApi
{
    public static IEndpointRouteBuilder MapDashboardLinks(this IEndpointRouteBuilder api)
    {
        api.MapPost("/instances/{instanceId}/dashboard-links", async (string instanceId, [FromServices] IStateStore store, [FromServices] LoginLinks links, [FromServices] DashboardUrls urls, CancellationToken ct) =>
        {
            if (await store.GetInstanceAsync(instanceId, ct) is not { } instance || instance.State == InstanceState.Deleted)
            {
                throw StewardException.NotFound($"instance {instanceId} does not exist");
            }

            var (url, expires) = links.Create(instanceId);
            return OsbJson.Result(new { url, expires_at = expires, dashboard_url = urls.Instance(instanceId) }, StatusCodes.Status201Created);
        });
        return api;
    }
}

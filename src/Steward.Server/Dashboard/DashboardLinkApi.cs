using Steward.Errors;
using Steward.Instances;
using Steward.Server.Http;
using Steward.State;

namespace Steward.Server.Dashboard;

/// <summary>
/// POST /api/v1/instances/{id}/dashboard-links: a one-time login link to the instance's dashboard, valid for a
/// few minutes, for the broker's credentials (any instance) or the instance's token (its own). The link opens
/// a session for that instance only; the broker's credentials never reach the browser.
/// </summary>
internal static class DashboardLinkApi
{
    public static IEndpointRouteBuilder MapDashboardLinks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/instances/{instanceId}/dashboard-links", async (string instanceId, HttpContext http, IStateStore store, LoginLinks links, DashboardOptions options, CancellationToken ct) =>
        {
            ApiScope.Require(http, instanceId, $"instance {instanceId}");
            if (await store.GetInstanceAsync(instanceId, ct) is not { } instance || instance.State == InstanceState.Deleted)
            {
                throw StewardException.NotFound($"instance {instanceId} does not exist");
            }

            var (url, expires) = links.Create(instanceId);
            return OsbJson.Result(new { url, expires_at = expires, dashboard_url = options.InstanceUrl(instanceId) }, StatusCodes.Status201Created);
        });
        return app;
    }
}

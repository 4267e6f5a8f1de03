using Microsoft.AspNetCore.Mvc;
using Steward.Server.Broker;
using Steward.Server.Configuration;
using Steward.Server.Http;

namespace Steward.Server.Api;

/// <summary>
/// <c>POST /api/v1/instances/{id}/rebuild</c> (documented in docs/openapi.yaml and docs/rebuild.md). On the scoped
/// group: a binding's instance token rebuilds its own instance without an administrator, and no other.
/// </summary>
internal static class RebuildApi
{
    public static IEndpointRouteBuilder MapRebuildApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/instances/{instanceId}/rebuild", async (string instanceId, HttpContext http, [FromServices] InstanceBroker broker, [FromServices] StewardOptions options, CancellationToken ct) =>
        {
            var request = http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0
                ? RebuildRequest.From(await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct), "body")
                : RebuildRequest.Latest;
            return await broker.RebuildAsync(instanceId, request, RequestIdentity.From(http.Request), ct);
        });
        return api;
    }
}

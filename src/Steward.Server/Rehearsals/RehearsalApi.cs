using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>
/// <c>POST /api/v1/instances/{id}/rehearsals</c>, <c>GET /api/v1/instances/{id}/rehearsals</c> and
/// <c>GET /api/v1/rehearsals/{id}</c> (docs/rehearsal.md, docs/openapi.yaml). On the scoped group: an instance
/// token rehearses and reads its own instance's rehearsals only.
/// </summary>
internal static class RehearsalApi
{
    public static IEndpointRouteBuilder MapRehearsalApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/instances/{instanceId}/rehearsals", async (string instanceId, HttpContext http, [FromServices] RehearsalService service, [FromServices] RehearsalView view, [FromServices] StewardOptions options, CancellationToken ct) =>
        {
            var request = http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0
                ? RehearsalRequest.From(await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct))
                : RehearsalRequest.Latest;
            var record = await service.StartAsync(instanceId, request, Broker.RequestIdentity.From(http.Request).Originating, ct);
            return OsbJson.Result(view.Describe(record, full: false), StatusCodes.Status202Accepted);
        });
        api.MapGet("/instances/{instanceId}/rehearsals", async (string instanceId, [FromServices] IStateStore store, [FromServices] IRehearsalStore rehearsals, [FromServices] RehearsalView view, CancellationToken ct) =>
        {
            if (await store.GetInstanceAsync(instanceId, ct) is null)
            {
                throw StewardException.NotFound($"instance {instanceId} does not exist");
            }

            return OsbJson.Result(new { rehearsals = (await rehearsals.ListRehearsalsAsync(instanceId, ct)).Select(r => view.Describe(r, full: false)) });
        });
        api.MapGet("/rehearsals/{rehearsalId}", async (string rehearsalId, [FromServices] IRehearsalStore rehearsals, [FromServices] RehearsalView view, CancellationToken ct) =>
        {
            var record = await rehearsals.GetRehearsalAsync(rehearsalId, ct) ?? throw StewardException.NotFound($"rehearsal {rehearsalId} does not exist");
            return OsbJson.Result(view.Describe(record, full: true));
        });
        api.MapDrillScheduleApi();
        return api;
    }
}

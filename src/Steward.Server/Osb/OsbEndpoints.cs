using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.Server.Broker;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Operations;

namespace Steward.Server.Osb;

/// <summary>The Open Service Broker API v2 routes.</summary>
internal static class OsbEndpoints
{
    public static IEndpointRouteBuilder MapOsb(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2");
        v2.MapGet("/catalog", ([FromServices] EngineRegistry engines) => Results.Json(CatalogDocument.Render(engines.Offerings)));

        v2.MapPut("/service_instances/{instanceId}", async (string instanceId, HttpRequest request, [FromServices] InstanceBroker broker, [FromServices] StewardOptions options, CancellationToken ct) =>
            await broker.ProvisionAsync(instanceId, await RequestBody.ReadAsync(request, options.MaxBodyBytes, ct), AcceptsIncomplete(request), RequestIdentity.From(request), ct));
        v2.MapPatch("/service_instances/{instanceId}", async (string instanceId, HttpRequest request, [FromServices] InstanceBroker broker, [FromServices] StewardOptions options, CancellationToken ct) =>
            await broker.UpdateAsync(instanceId, await RequestBody.ReadAsync(request, options.MaxBodyBytes, ct), AcceptsIncomplete(request), RequestIdentity.From(request), ct));
        v2.MapDelete("/service_instances/{instanceId}", (string instanceId, HttpRequest request, [FromServices] InstanceBroker broker, CancellationToken ct) =>
            broker.DeprovisionAsync(instanceId, Query(request, "service_id"), Query(request, "plan_id"), AcceptsIncomplete(request), RequestIdentity.From(request), ct));
        v2.MapGet("/service_instances/{instanceId}", (string instanceId, [FromServices] InstanceBroker broker, CancellationToken ct) =>
            broker.GetAsync(instanceId, ct));
        v2.MapGet("/service_instances/{instanceId}/last_operation", (string instanceId, HttpRequest request, [FromServices] InstanceBroker broker, CancellationToken ct) =>
            broker.LastOperationAsync(instanceId, Query(request, "operation"), ct));

        v2.MapPut("/service_instances/{instanceId}/service_bindings/{bindingId}", async (string instanceId, string bindingId, HttpRequest request, [FromServices] BindingBroker broker, [FromServices] StewardOptions options, CancellationToken ct) =>
            await broker.CreateAsync(instanceId, bindingId, await RequestBody.ReadAsync(request, options.MaxBodyBytes, ct), RequestIdentity.From(request), ct));
        v2.MapDelete("/service_instances/{instanceId}/service_bindings/{bindingId}", (string instanceId, string bindingId, HttpRequest request, [FromServices] BindingBroker broker, CancellationToken ct) =>
            broker.DeleteAsync(instanceId, bindingId, Query(request, "service_id"), Query(request, "plan_id"), RequestIdentity.From(request), ct));
        v2.MapGet("/service_instances/{instanceId}/service_bindings/{bindingId}", (string instanceId, string bindingId, [FromServices] BindingBroker broker, CancellationToken ct) =>
            broker.GetAsync(instanceId, bindingId, ct));
        v2.MapGet("/service_instances/{instanceId}/service_bindings/{bindingId}/last_operation", (string instanceId, string bindingId, [FromServices] BindingBroker broker, CancellationToken ct) =>
            broker.LastOperationAsync(instanceId, bindingId, ct));
        return app;
    }

    private static string? Query(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null;

    private static bool AcceptsIncomplete(HttpRequest request) => Query(request, "accepts_incomplete") switch
    {
        null or "false" => false,
        "true" => true,
        var other => throw StewardException.BadRequest($"accepts_incomplete must be true or false, not '{other}'"),
    };
}

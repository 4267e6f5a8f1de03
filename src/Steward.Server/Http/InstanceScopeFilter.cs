using Steward.Errors;
using Steward.State;

namespace Steward.Server.Http;

/// <summary>
/// Scopes every endpoint of Steward's own API to an instance token's instance, from the route alone: each
/// id in the route must belong to the caller's instance, or the resource does not exist for it (404, so ids
/// cannot be probed). A route id of a kind listed here nowhere, or a route with no id whose handler does not
/// declare <see cref="StewardAuthentication.FiltersByCaller{TBuilder}"/>, is the broker's alone (403): a new
/// endpoint is scoped, or closed to tokens, without remembering to be.
/// </summary>
internal sealed class InstanceScopeFilter : IEndpointFilter
{
    private static readonly Dictionary<string, (string Kind, Func<IStateStore, string, CancellationToken, Task<string?>> Owner)> Resources = new(StringComparer.OrdinalIgnoreCase)
    {
        ["instanceId"] = ("instance", (_, id, _) => Task.FromResult<string?>(id)),
        ["backupId"] = ("backup", async (store, id, ct) => (await store.GetBackupAsync(id, ct))?.InstanceId),
        ["operationId"] = ("operation", async (store, id, ct) => (await store.GetOperationAsync(id, ct))?.InstanceId),
        ["incidentId"] = ("incident", async (store, id, ct) => (await store.GetIncidentAsync(id, ct))?.InstanceId),
    };

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var caller = Caller.From(http.User);
        if (caller.IsBroker)
        {
            return await next(context);
        }

        var route = http.Request.RouteValues;
        if (route.Count == 0 && http.GetEndpoint()?.Metadata.GetMetadata<FiltersByCallerMetadata>() is null)
        {
            throw BrokerOnly();
        }

        var store = http.RequestServices.GetRequiredService<IStateStore>();
        foreach (var (name, value) in route)
        {
            if (!Resources.TryGetValue(name, out var resource))
            {
                throw BrokerOnly();
            }

            var id = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
            if (await resource.Owner(store, id, http.RequestAborted) != caller.InstanceId)
            {
                throw StewardException.NotFound($"{resource.Kind} {id} does not exist");
            }
        }

        return await next(context);
    }

    private static StewardException BrokerOnly() =>
        new(ErrorCode.Forbidden, "this endpoint needs the broker's credentials; an instance token reaches its own instance only");
}

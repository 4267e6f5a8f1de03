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
    private static readonly Dictionary<string, (string Kind, Func<IServiceProvider, string, CancellationToken, Task<string?>> Owner)> Resources = new(StringComparer.OrdinalIgnoreCase)
    {
        ["instanceId"] = ("instance", (_, id, _) => Task.FromResult<string?>(id)),
        ["backupId"] = ("backup", async (sp, id, ct) => (await Store(sp).GetBackupAsync(id, ct))?.InstanceId),
        ["operationId"] = ("operation", async (sp, id, ct) => (await Store(sp).GetOperationAsync(id, ct))?.InstanceId),
        ["incidentId"] = ("incident", async (sp, id, ct) => (await Store(sp).GetIncidentAsync(id, ct))?.InstanceId),
        ["rehearsalId"] = ("rehearsal", async (sp, id, ct) => (await sp.GetRequiredService<IRehearsalStore>().GetRehearsalAsync(id, ct))?.InstanceId),
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

        foreach (var (name, value) in route)
        {
            if (!Resources.TryGetValue(name, out var resource))
            {
                throw BrokerOnly();
            }

            var id = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
            if (await resource.Owner(http.RequestServices, id, http.RequestAborted) != caller.InstanceId)
            {
                throw StewardException.NotFound($"{resource.Kind} {id} does not exist");
            }
        }

        return await next(context);
    }

    private static IStateStore Store(IServiceProvider services) => services.GetRequiredService<IStateStore>();

    private static StewardException BrokerOnly() =>
        new(ErrorCode.Forbidden, "this endpoint needs the broker's credentials; an instance token reaches its own instance only");
}

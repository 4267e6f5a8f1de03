using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.Instances;
using Steward.Server.Http;
using Steward.State;

namespace Steward.Server.Events;

/// <summary>
/// GET /api/v1/instances/{id}/events: the instance's events as server-sent events (health, operation,
/// backup, progress, incident, instance). A client reconnecting with <c>Last-Event-ID</c> (or <c>?after=</c>)
/// first receives the kept events it missed. Mapped on the scoped /api/v1 group: the broker's credentials
/// reach every instance, an instance token its own instance only.
/// </summary>
internal static class EventStreamApi
{
    public static IEndpointRouteBuilder MapEventStream(this IEndpointRouteBuilder app)
    {
        app.MapGet("/instances/{instanceId}/events", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EventHub hub, CancellationToken ct) =>
        {
            if (await store.GetInstanceAsync(instanceId, ct) is not { } instance || instance.State == InstanceState.Deleted)
            {
                throw StewardException.NotFound($"instance {instanceId} does not exist");
            }

            return Stream(http, hub, instanceId);
        });
        return app;
    }

    /// <summary>The SSE response for one instance, resuming after the client's last event id.</summary>
    public static IResult Stream(HttpContext http, EventHub hub, string instanceId)
    {
        var after = http.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? http.Request.Query["after"].FirstOrDefault();
        var afterId = long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var a) ? a : 0;
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(ItemsAsync(hub.Subscribe(instanceId, afterId), http.RequestAborted));
    }

    public static string Json(InstanceEvent e) => JsonSerializer.Serialize(e.Data, OsbJson.Options);

    private static async IAsyncEnumerable<SseItem<string>> ItemsAsync(EventHub.Subscription subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (subscription)
        {
            // An opening comment-like event lets clients know the stream is live before anything happens.
            yield return new SseItem<string>("{}", "ready");
            foreach (var e in subscription.Backlog)
            {
                yield return Item(e);
            }

            while (await WaitAsync(subscription, cancellationToken))
            {
                while (subscription.Reader.TryRead(out var e))
                {
                    yield return Item(e);
                }
            }
        }
    }

    private static async Task<bool> WaitAsync(EventHub.Subscription subscription, CancellationToken cancellationToken)
    {
        try
        {
            return await subscription.Reader.WaitToReadAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static SseItem<string> Item(InstanceEvent e) =>
        new(Json(e), e.Type) { EventId = e.Id.ToString(CultureInfo.InvariantCulture) };
}

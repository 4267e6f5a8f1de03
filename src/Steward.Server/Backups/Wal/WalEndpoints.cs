using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.Features;
using Steward.Engines.PostgreSql.Wal;
using Steward.Instances;
using Steward.Server.Operations;
using Steward.State;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// What each instance's archive_command and restore_command call: <c>PUT /wal/{instance}/{file}</c> answers 200
/// only once the file is durably stored; <c>GET</c> answers the verified file, or 404 when it was never archived.
/// Outside the broker's API: the caller proves it is the instance with the instance's own archive secret.
/// </summary>
internal static class WalEndpoints
{
    private const long MaxFileBytes = 1L << 30;

    public static IEndpointRouteBuilder MapWalEndpoints(this IEndpointRouteBuilder app)
    {
        var wal = app.MapGroup("/wal").AllowAnonymous();
        wal.MapPut("/{instanceId}/{name}", async (string instanceId, string name, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] WalArchive archive, CancellationToken ct) =>
        {
            if (await AuthorizeAsync(http, instanceId, store, engines, ct) is { } refused)
            {
                return refused;
            }

            if (WalName.Parse(name) is not { } wal)
            {
                return Results.Text($"'{name}' is not a WAL file name\n", statusCode: StatusCodes.Status400BadRequest);
            }

            http.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = MaxFileBytes;
            return await archive.StoreAsync(instanceId, wal, http.Request.Body, ct) switch
            {
                ArchiveOutcome.Stored => Results.Text("stored\n"),
                ArchiveOutcome.Conflict => Results.Text($"{archive.LastFailure(instanceId)?.Reason ?? name + " is already archived with different content"}\n", statusCode: StatusCodes.Status409Conflict),
                _ => Results.Text($"{name} could not be stored: {archive.LastFailure(instanceId)?.Reason}\n", statusCode: StatusCodes.Status503ServiceUnavailable),
            };
        });
        wal.MapGet("/{instanceId}/{name}", async (string instanceId, string name, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] WalSpool spool, [FromServices] ILogger<WalArchive> logger, CancellationToken ct) =>
        {
            if (await AuthorizeAsync(http, instanceId, store, engines, ct) is { } refused)
            {
                return refused;
            }

            if (WalName.Parse(name) is not { } wal)
            {
                return Results.Text($"'{name}' is not a WAL file name\n", statusCode: StatusCodes.Status400BadRequest);
            }

            try
            {
                // Served from a verified file of the instance's spool (WalSpool): the broker never holds the segment in memory.
                return await spool.FetchAsync(instanceId, await ArchiveToReadAsync(instanceId, store, ct), wal, ct) is { } data
                    ? Results.Stream(data, "application/octet-stream")
                    : Results.Text($"{name} is not in the archive\n", statusCode: StatusCodes.Status404NotFound);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Not 404: recovery must stop here rather than take a damaged archive for its end.
                WalLog.FetchFailed(logger, instanceId, name, ex.Message);
                return Results.Text($"{name} cannot be restored: {ex.Message}\n", statusCode: StatusCodes.Status500InternalServerError);
            }
        });
        return app;
    }

    /// <summary>
    /// Whose archive an instance's restore_command reads: its own, except while it is being provisioned as a clone
    /// at a point in time of another instance, when it replays that instance's archive (read only, and only until
    /// the clone's provisioning ends).
    /// </summary>
    private static async Task<string> ArchiveToReadAsync(string instanceId, IStateStore store, CancellationToken ct)
    {
        if (await store.GetInstanceAsync(instanceId, ct) is { State: InstanceState.Provisioning }
            && await store.LatestInstanceOperationAsync(instanceId, ct) is { Kind: Steward.Operations.OperationKind.Provision, State: Steward.Operations.OperationState.InProgress, PayloadJson: { } json }
            && System.Text.Json.JsonSerializer.Deserialize<ClonePayload>(json) is { PointInTime: not null, SourceInstanceId: { } source })
        {
            return source;
        }

        return instanceId;
    }

    private static async Task<IResult?> AuthorizeAsync(HttpContext http, string instanceId, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, CancellationToken ct)
    {
        var instance = await store.GetInstanceAsync(instanceId, ct);
        var token = http.Request.Headers[WalHelper.TokenHeader].ToString();

        // The members of an ha instance hold copies of the instance's secret in their own config/.
        var archiving = http.RequestServices.GetRequiredService<HighAvailability.HaArchiving>();
        return instance is null || instance.State == InstanceState.Deleted || !await archiving.VerifyAsync(instance, token, ct)
            ? Results.Text("not this instance's archive secret\n", statusCode: StatusCodes.Status403Forbidden)
            : null;
    }
}

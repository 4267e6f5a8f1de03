using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Server.Backups;
using Steward.Server.Broker;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Api;

/// <summary>
/// Backups and restores beside OSB (documented in docs/openapi.yaml). Mapped on the scoped group: the broker's
/// credentials act on every instance; a binding's instance token on its own instance only, and anything else
/// does not exist for it (<see cref="InstanceScopeFilter"/>).
/// </summary>
internal static class BackupApi
{
    public static IEndpointRouteBuilder MapBackupApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/instances/{instanceId}/backups", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] BackupService backups, [FromServices] StewardOptions options, CancellationToken ct) =>
        {
            var instance = await InstanceAsync(store, instanceId, ct);
            var kind = http.Request.ContentLength is > 0 ? (await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct)).OptionalString("kind") : null;
            var backup = await backups.StartAsync(instance, kind, RequestIdentity.From(http.Request), ct);
            return OsbJson.Result(Describe(backup, null), StatusCodes.Status202Accepted);
        });
        api.MapGet("/instances/{instanceId}/backups", async (string instanceId, [FromServices] IStateStore store, [FromServices] IScheduleStore schedules, [FromServices] ProgressBoard progress, CancellationToken ct) =>
        {
            await InstanceAsync(store, instanceId, ct);
            var list = await store.ListBackupsAsync(instanceId, ct);
            var pinned = await schedules.PinnedBackupsAsync(instanceId, ct);
            return OsbJson.Result(new { backups = list.Select(b => Describe(b, progress.Get(b.Id), pinned: pinned.Contains(b.Id))) });
        });
        api.MapGet("/backups/{backupId}", async (string backupId, [FromServices] IStateStore store, [FromServices] IScheduleStore schedules, [FromServices] ProgressBoard progress, CancellationToken ct) =>
        {
            var backup = await BackupAsync(store, backupId, ct);
            var pinned = (await schedules.PinnedBackupsAsync(backup.InstanceId, ct)).Contains(backup.Id);
            return OsbJson.Result(Describe(backup, progress.Get(backup.Id), withManifest: true, pinned: pinned));
        });
        api.MapDelete("/backups/{backupId}", async (string backupId, [FromServices] IStateStore store, [FromServices] BackupService backups, CancellationToken ct) =>
        {
            var backup = await BackupAsync(store, backupId, ct);
            if (backup.State == BackupState.InProgress)
            {
                backups.Cancel(backup.Id);
                return OsbJson.Result(new { id = backup.Id, state = "cancelling" }, StatusCodes.Status202Accepted);
            }

            await backups.DeleteAsync(backup, ct);
            return OsbJson.Empty();
        });
        api.MapPost("/instances/{instanceId}/restore", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] InstanceBroker broker, [FromServices] StewardOptions options, CancellationToken ct) =>
        {
            await InstanceAsync(store, instanceId, ct);
            var body = await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct);
            return await broker.RestoreAsync(instanceId, body.RequiredString("backup_id"), RequestIdentity.From(http.Request), ct);
        });
        api.MapGet("/operations/{operationId}", async (string operationId, [FromServices] IStateStore store, [FromServices] ProgressBoard progress, CancellationToken ct) =>
        {
            var op = await store.GetOperationAsync(operationId, ct);
            if (op is null)
            {
                throw StewardException.NotFound($"operation {operationId} does not exist");
            }

            return OsbJson.Result(new
            {
                id = op.Id,
                instance_id = op.InstanceId,
                kind = op.Kind.ToString().ToLowerInvariant(),
                state = op.State.OsbName(),
                description = op.Description,
                step = op.Step,
                instance_usable = op.InstanceUsable,
                progress = Progress(progress.Get(op.Id)),
                created_at = op.CreatedAt,
                updated_at = op.UpdatedAt,
            });
        });
        api.MapGet("/openapi.yaml", () => Results.Stream(
            typeof(BackupApi).Assembly.GetManifestResourceStream("openapi.yaml")!, "application/yaml")).FiltersByCaller();
        return api;
    }

    private static async Task<ServiceInstance> InstanceAsync(IStateStore store, string instanceId, CancellationToken ct)
    {
        var instance = await store.GetInstanceAsync(instanceId, ct);
        return instance is null || instance.State == InstanceState.Deleted
            ? throw StewardException.NotFound($"instance {instanceId} does not exist")
            : instance;
    }

    private static async Task<BackupRecord> BackupAsync(IStateStore store, string backupId, CancellationToken ct)
    {
        var backup = await store.GetBackupAsync(backupId, ct);
        return backup is null
            ? throw StewardException.NotFound($"backup {backupId} does not exist")
            : backup;
    }

    private static object? Progress(BackupProgress? p) => p is null ? null : new
    {
        stage = p.Stage,
        plaintext_bytes = p.PlaintextBytes,
        stored_bytes = p.StoredBytes,
        bytes_per_second = Math.Round(p.BytesPerSecond),
        elapsed_seconds = Math.Round((p.At - p.StartedAt).TotalSeconds, 1),
    };

    private static object Describe(BackupRecord b, BackupProgress? progress, bool withManifest = false, bool pinned = false)
    {
        var seconds = b.CompletedAt is { } done ? (done - b.StartedAt).TotalSeconds : (double?)null;
        return new
        {
            id = b.Id,
            instance_id = b.InstanceId,
            service = b.Service,
            kind = b.Kind,
            state = b.State switch { BackupState.InProgress => "in progress", BackupState.Succeeded => "succeeded", BackupState.Deleting => "deleting", _ => "failed" },
            pinned,
            storage = b.Storage,
            key = b.Key,
            started_at = b.StartedAt,
            completed_at = b.CompletedAt,
            duration_seconds = seconds is { } s ? Math.Round(s, 2) : (double?)null,
            plaintext_bytes = b.PlaintextBytes,
            stored_bytes = b.StoredBytes,
            throughput_mb_per_second = seconds is > 0 ? Math.Round(b.PlaintextBytes / 1e6 / seconds.Value, 1) : (double?)null,
            plaintext_digest = b.PlaintextDigest,
            stored_sha256 = b.StoredSha256,
            failed_stage = b.FailedStage,
            failure_kind = b.FailureKind,
            message = b.Message,
            progress = Progress(progress),
            manifest = withManifest && b.ManifestJson is { } m ? JsonDocument.Parse(m).RootElement : (JsonElement?)null,
        };
    }
}

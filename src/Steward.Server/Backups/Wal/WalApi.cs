using Microsoft.AspNetCore.Mvc;
using System.Text.Json;
using System.Text.RegularExpressions;
using Steward.Backups;
using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Wal;
using Steward.Errors;
using Steward.Instances;
using Steward.Server.Broker;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// WAL archiving and point-in-time restore in Steward's API (docs/openapi.yaml): archive status, the recoverable
/// window, restore points and the restore itself. An instance token reaches its own instance only.
/// </summary>
internal static partial class WalApi
{
    /// <summary>Maps the routes on Steward's scoped API group (/api/v1): a token reaches its own instance only.</summary>
    public static IEndpointRouteBuilder MapWalApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/instances/{instanceId}");
        api.MapGet("/wal", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] IWalCatalog catalog, [FromServices] WalMonitor monitor, [FromServices] WalArchive archive, [FromServices] WalSettings settings, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            var instance = await PostgreSqlInstanceAsync(http, store, engines, instanceId, ct);
            var measured = await MeasureAsync(monitor, instance, ct);
            var files = await catalog.ListWalFilesAsync(instanceId, ct);
            var last = files.Where(f => WalName.Parse(f.Name)?.Kind == WalFileKind.Segment).MaxBy(f => f.ArchivedAt);
            var s = measured?.Status;
            var failure = archive.LastFailure(instanceId);
            var now = time.GetUtcNow();
            return OsbJson.Result(new
            {
                instance_id = instanceId,
                archiving = settings.Enabled && s is { ArchiveModeOn: true },
                archive_timeout_seconds = settings.ArchiveTimeout.TotalSeconds,
                measured_at = measured?.At,
                last_archived_segment = last?.Name,
                last_archived_at = last?.ArchivedAt,
                current_segment = s?.CurrentWal,
                current_lsn = s?.CurrentLsn,
                timeline = s?.Timeline,
                pending_segments = s?.PendingSegments,
                pending_bytes = s is null ? (long?)null : s.PendingSegments * s.SegmentBytes,
                lag_seconds = s?.OldestPendingSince is { } since ? Math.Round((now - since).TotalSeconds, 1) : s is null ? (double?)null : 0,
                free_disk_bytes = measured?.FreeBytes,
                archived_files = files.Count,
                archived_bytes = files.Sum(f => f.PlaintextBytes),
                stored_bytes = files.Sum(f => f.StoredBytes),
                failures = new
                {
                    count = s?.FailedCount,
                    last_failed_segment = s?.LastFailedWal,
                    last_failed_at = s?.LastFailedTime,
                    last_error = failure?.Reason,
                    last_error_at = failure?.At,
                },
                incident_id = measured?.IncidentId,
            });
        });
        api.MapGet("/wal/files", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] IWalCatalog catalog, CancellationToken ct) =>
        {
            await PostgreSqlInstanceAsync(http, store, engines, instanceId, ct);
            return OsbJson.Result(new
            {
                files = (await catalog.ListWalFilesAsync(instanceId, ct)).Select(f => new
                {
                    name = f.Name,
                    kind = WalName.Parse(f.Name)?.Kind.ToString().ToLowerInvariant(),
                    archived_at = f.ArchivedAt,
                    plaintext_bytes = f.PlaintextBytes,
                    stored_bytes = f.StoredBytes,
                    plaintext_digest = f.PlaintextDigest,
                    stored_sha256 = f.StoredSha256,
                    key = f.Key,
                }),
            });
        });
        api.MapGet("/recovery-window", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] RecoveryPlanner planner, [FromServices] IWalCatalog catalog, CancellationToken ct) =>
        {
            var instance = await InstanceAsync(http, store, instanceId, ct);
            if (engines.Engine(instance.ServiceId) is not PostgreSqlEngine)
            {
                // Redis has no WAL: the newest backup is the recovery point.
                var latest = (await store.ListBackupsAsync(instanceId, ct)).Where(b => b.State == BackupState.Succeeded).MaxBy(b => b.StartedAt);
                return OsbJson.Result(new
                {
                    instance_id = instanceId,
                    service = engines.Engine(instance.ServiceId).Offering.Name,
                    point_in_time = false,
                    recovery_point = latest?.StartedAt,
                    recovery_point_backup_id = latest?.Id,
                    note = "this service has no write-ahead log to archive: it can be restored to its backups only, so its recency is its backup schedule",
                });
            }

            var windows = await planner.WindowsAsync(instanceId, ct);
            var current = windows.FirstOrDefault(w => w.Current);
            return OsbJson.Result(new
            {
                instance_id = instanceId,
                service = "postgresql",
                point_in_time = true,
                timeline = current?.Timeline,
                earliest_recoverable_time = current?.Earliest,
                latest_recoverable_time = current?.Latest,
                latest_recoverable_lsn = current is null ? null : Lsn.Format(current.LatestLsn),
                earliest_base_backup_id = current?.EarliestBase?.Id,
                timelines = windows.Select(w => new
                {
                    timeline = w.Timeline,
                    current = w.Current,
                    started_at = w.StartedAt,
                    earliest_recoverable_time = w.Earliest,
                    latest_recoverable_time = w.Latest,
                    latest_recoverable_lsn = Lsn.Format(w.LatestLsn),
                }),
                restore_points = (await catalog.ListRestorePointsAsync(instanceId, ct)).Select(p => new { name = p.Name, lsn = p.Lsn, timeline = p.Timeline, created_at = p.CreatedAt }),
            });
        });
        api.MapPost("/restore-points", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] IWalCatalog catalog, [FromServices] StewardOptions options, CancellationToken ct) =>
        {
            var instance = await PostgreSqlInstanceAsync(http, store, engines, instanceId, ct);
            var name = (await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct)).RequiredString("name");
            if (!PointName().IsMatch(name))
            {
                throw StewardException.BadRequest($"restore point name '{name}' must be 1 to 63 letters, digits, '.', '_' or '-'");
            }

            if ((await catalog.ListRestorePointsAsync(instanceId, ct)).Any(p => p.Name == name))
            {
                throw new StewardException(ErrorCode.Conflict, $"instance {instanceId} already has a restore point '{name}'; names are unique per instance");
            }

            var context = engines.Context(instance);
            var (lsn, timeline, at) = await WalInspector.CreateRestorePointAsync(context, name, ct);

            // Completing the segment archives the point within seconds instead of within archive_timeout.
            await WalInspector.SwitchAsync(context, ct);
            var point = new RestorePoint(instanceId, name, lsn, timeline, at);
            if (!await catalog.AddRestorePointAsync(point, ct))
            {
                throw new StewardException(ErrorCode.Conflict, $"instance {instanceId} already has a restore point '{name}'; names are unique per instance");
            }

            return OsbJson.Result(new { instance_id = instanceId, name, lsn, timeline, created_at = at }, StatusCodes.Status201Created);
        });
        api.MapGet("/restore-points", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] IWalCatalog catalog, CancellationToken ct) =>
        {
            await PostgreSqlInstanceAsync(http, store, engines, instanceId, ct);
            return OsbJson.Result(new { restore_points = (await catalog.ListRestorePointsAsync(instanceId, ct)).Select(p => new { name = p.Name, lsn = p.Lsn, timeline = p.Timeline, created_at = p.CreatedAt }) });
        });
        api.MapPost("/point-in-time-restore", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] InstanceBroker broker, [FromServices] RecoveryPlanner planner, [FromServices] StewardOptions options, [FromServices] Steward.Runtime.IInstanceRuntime runtime, CancellationToken ct) =>
        {
            await PostgreSqlInstanceAsync(http, store, engines, instanceId, ct);
            if (!runtime.SharesFiles)
            {
                throw StewardException.BadRequest($"point-in-time restore is not supported on Kubernetes: WAL archiving is off there (see docs/kubernetes.md); restore a backup with POST /api/v1/instances/{instanceId}/restore");
            }

            var body = await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct);
            var target = RecoveryTarget.From(body.OptionalString("to_time"), body.OptionalString("to_lsn"), body.OptionalString("to_restore_point"), body.OptionalBoolean("latest") ?? false);
            return await broker.RestoreAsync(
                instanceId,
                async instance =>
                {
                    var plan = await planner.PlanAsync(instance.Id, target, ct);
                    return ($"point-in-time restore to {plan.Description} from base backup {plan.BackupId} requested", JsonSerializer.Serialize(plan));
                },
                RequestIdentity.From(http.Request),
                ct);
        });
        return app;
    }

    private static async Task<WalMonitor.Measured?> MeasureAsync(WalMonitor monitor, ServiceInstance instance, CancellationToken ct)
    {
        try
        {
            return await monitor.MeasureAsync(instance, ct);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return monitor.Latest(instance.Id);
        }
    }

    private static async Task<ServiceInstance> PostgreSqlInstanceAsync(HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, string instanceId, CancellationToken ct)
    {
        var instance = await InstanceAsync(http, store, instanceId, ct);
        return engines.Engine(instance.ServiceId) is PostgreSqlEngine
            ? instance
            : throw StewardException.BadRequest($"instance {instanceId} is {engines.Engine(instance.ServiceId).Offering.Name}, which has no write-ahead log: it is restored from its backups (see GET /api/v1/instances/{instanceId}/recovery-window)");
    }

    private static async Task<ServiceInstance> InstanceAsync(HttpContext http, [FromServices] IStateStore store, string instanceId, CancellationToken ct)
    {
        var instance = await store.GetInstanceAsync(instanceId, ct);
        return instance is null || instance.State is InstanceState.Deleted or InstanceState.Provisioning or InstanceState.Failed
            ? throw StewardException.NotFound($"instance {instanceId} does not exist")
            : instance;
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,63}$")]
    private static partial Regex PointName();
}

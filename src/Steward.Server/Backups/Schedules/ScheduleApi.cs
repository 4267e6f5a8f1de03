using Microsoft.AspNetCore.Mvc;
using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Backups.Schedules;

/// <summary>
/// Backup schedules, retention and pins under /api/v1 (documented in docs/openapi.yaml). An instance token may
/// manage its own instance's schedule within its plan's minimum interval; the broker's credentials are not
/// limited. Every input is validated before anything is stored.
/// </summary>
internal static class ScheduleApi
{
    private static readonly HashSet<string> Fields = ["cron", "time_zone", "every", "kind", "keep_last", "keep_daily", "keep_weekly", "keep_monthly"];

    /// <summary>Maps the schedule endpoints on the scoped /api/v1 group, whose filter checks every id against the caller.</summary>
    public static IEndpointRouteBuilder MapScheduleApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/instances/{instanceId}/backup-schedule", async (string instanceId, [FromServices] IStateStore store, [FromServices] IScheduleStore schedules, [FromServices] ScheduleView view, CancellationToken ct) =>
        {
            await ScheduleRequest.InstanceAsync(store, instanceId, ct);
            var schedule = await schedules.GetScheduleAsync(instanceId, ct)
                ?? throw StewardException.NotFound($"instance {instanceId} has no backup schedule (neither its own nor a default of its plan)");
            return OsbJson.Result(await view.DescribeAsync(schedule, ct));
        });
        api.MapPut("/instances/{instanceId}/backup-schedule", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] BackupService backups, [FromServices] EngineRegistry engines, [FromServices] IPlanDefaults plans, [FromServices] BackupScheduler scheduler, [FromServices] ScheduleView view, [FromServices] StewardOptions options, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            var instance = await ScheduleRequest.InstanceAsync(store, instanceId, ct);
            var body = await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct);
            var now = time.GetUtcNow();
            var spec = Parse(body, instance, engines, backups, now);
            ScheduleRequest.RequireAllowedGap(http, plans, instance, ScheduleTiming.Of(spec), now);

            var saved = await scheduler.SetAsync(spec, ct);
            return OsbJson.Result(await view.DescribeAsync(saved, ct));
        });
        api.MapDelete("/instances/{instanceId}/backup-schedule", async (string instanceId, [FromServices] IStateStore store, [FromServices] IScheduleStore schedules, [FromServices] BackupScheduler scheduler, CancellationToken ct) =>
        {
            await ScheduleRequest.InstanceAsync(store, instanceId, ct);
            if (!await scheduler.DeleteAsync(instanceId, ct))
            {
                throw await schedules.GetScheduleAsync(instanceId, ct) is null
                    ? StewardException.NotFound($"instance {instanceId} has no backup schedule")
                    : new StewardException(ErrorCode.Conflict, $"instance {instanceId} follows its plan's default schedule, which only the operator can change");
            }

            return OsbJson.Empty();
        });
        api.MapPut("/backups/{backupId}/pin", (string backupId, [FromServices] IStateStore store, [FromServices] IScheduleStore schedules, [FromServices] TimeProvider time, CancellationToken ct) =>
            PinAsync(backupId, store, schedules, time.GetUtcNow(), ct));
        api.MapDelete("/backups/{backupId}/pin", (string backupId, [FromServices] IStateStore store, [FromServices] IScheduleStore schedules, CancellationToken ct) =>
            PinAsync(backupId, store, schedules, null, ct));
        return api;
    }

    private static async Task<IResult> PinAsync(string backupId, [FromServices] IStateStore store, [FromServices] IScheduleStore schedules, DateTimeOffset? at, CancellationToken ct)
    {
        var backup = await store.GetBackupAsync(backupId, ct);
        if (backup is null)
        {
            throw StewardException.NotFound($"backup {backupId} does not exist");
        }

        if (at is not null && backup.State is not (BackupState.Succeeded or BackupState.InProgress))
        {
            throw new StewardException(ErrorCode.Conflict, $"backup {backupId} is {backup.State.ToString().ToLowerInvariant()}; only a succeeded or running backup can be pinned");
        }

        await schedules.SetPinnedAsync(backupId, at, ct);
        return OsbJson.Result(new { id = backupId, pinned = at is not null });
    }

    private static BackupSchedule Parse(RequestBody body, ServiceInstance instance, [FromServices] EngineRegistry engines, [FromServices] BackupService backups, DateTimeOffset now)
    {
        if (body.FieldNames.FirstOrDefault(f => !Fields.Contains(f)) is { } unknown)
        {
            throw StewardException.BadRequest($"unknown field '{unknown}'; a schedule has: {string.Join(", ", Fields)}");
        }

        var (cron, every, timing) = ScheduleRequest.Timing(body);
        var kind = body.OptionalString("kind");
        if (kind is not null)
        {
            backups.Method(engines.Engine(instance.ServiceId).Offering.Name, kind);
        }

        var retention = new RetentionPolicy
        {
            KeepLast = body.OptionalInt("keep_last", 0),
            KeepDaily = body.OptionalInt("keep_daily", 0),
            KeepWeekly = body.OptionalInt("keep_weekly", 0),
            KeepMonthly = body.OptionalInt("keep_monthly", 0),
        };
        if (!retention.IsNone && (retention.KeepLast ?? 0) + (retention.KeepDaily ?? 0) + (retention.KeepWeekly ?? 0) + (retention.KeepMonthly ?? 0) == 0)
        {
            throw StewardException.BadRequest("a retention policy must keep at least one backup; leave out every keep_* to keep all");
        }

        return new BackupSchedule
        {
            InstanceId = instance.Id,
            Source = "instance",
            Cron = cron,
            TimeZone = timing.Zone.Id,
            Every = every,
            Kind = kind,
            Retention = retention,
            NextRunAt = now,
            DueAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }
}

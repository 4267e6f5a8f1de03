using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.Instances;
using Steward.Rehearsals;
using Steward.Server.Backups.Schedules;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>
/// <c>GET|PUT|DELETE /api/v1/instances/{id}/rehearsal-schedule</c>: recurring restore rehearsals, timed like backup
/// schedules (a cron expression or an interval) and bound for an instance token by the same plan minimum. Every input
/// is validated before anything is stored.
/// </summary>
internal static class DrillScheduleApi
{
    private static readonly string[] Fields = ["cron", "time_zone", "every"];

    public static IEndpointRouteBuilder MapDrillScheduleApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/instances/{instanceId}/rehearsal-schedule", async (string instanceId, [FromServices] IStateStore store, [FromServices] IDrillScheduleStore schedules, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            await InstanceAsync(store, instanceId, ct);
            var schedule = await schedules.GetDrillScheduleAsync(instanceId, ct)
                ?? throw StewardException.NotFound($"instance {instanceId} has no rehearsal schedule");
            return OsbJson.Result(Describe(schedule));
        });
        api.MapPut("/instances/{instanceId}/rehearsal-schedule", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] IEnumerable<IRehearsalEngine> rehearsalEngines, [FromServices] IPlanDefaults plans, [FromServices] DrillScheduler scheduler, [FromServices] StewardOptions options, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            var instance = await InstanceAsync(store, instanceId, ct);
            var service = engines.Engine(instance.ServiceId).Offering.Name;
            if (!rehearsalEngines.Any(r => r.Service == service))
            {
                throw StewardException.BadRequest($"service '{service}' has no restore rehearsal");
            }

            if (engines.HighlyAvailable(instance))
            {
                throw StewardException.BadRequest($"rehearsing backups of instances on a highly available plan is not supported yet (instance {instanceId})");
            }

            var body = await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct);
            var now = time.GetUtcNow();
            var spec = Parse(body, instance.Id, now);
            if (!Caller.From(http.User).IsBroker)
            {
                var minimum = plans.MinimumInterval(instance);
                var gap = DrillScheduler.Timing(spec).MinimumGap(now);
                if (gap < minimum)
                {
                    throw StewardException.BadRequest($"this schedule runs every {ScheduleTiming.Format(gap)} at the shortest; the instance's plan allows an instance token {ScheduleTiming.Format(minimum)} at the shortest");
                }
            }

            return OsbJson.Result(Describe(await scheduler.SetAsync(spec, ct)));
        });
        api.MapDelete("/instances/{instanceId}/rehearsal-schedule", async (string instanceId, [FromServices] IStateStore store, [FromServices] DrillScheduler scheduler, CancellationToken ct) =>
        {
            await InstanceAsync(store, instanceId, ct);
            return await scheduler.DeleteAsync(instanceId, ct)
                ? OsbJson.Empty()
                : throw StewardException.NotFound($"instance {instanceId} has no rehearsal schedule");
        });
        return api;
    }

    /// <summary>How a drill schedule reads in the API and in the instance's details.</summary>
    public static object Describe(DrillSchedule s) => new
    {
        instance_id = s.InstanceId,
        cron = s.Cron,
        time_zone = s.TimeZone,
        every = s.Every is { } e ? ScheduleTiming.Format(e) : null,
        next_run_at = s.DueAt,
        scheduled_for = s.NextRunAt,
        running_rehearsal_id = s.RunningRehearsalId,
        last_run_at = s.LastRunAt,
        last_rehearsal_id = s.LastRehearsalId,
        last_result = s.LastResult,
        last_message = s.LastMessage,
        open_incident = s.IncidentId,
        created_at = s.CreatedAt,
        updated_at = s.UpdatedAt,
    };

    private static DrillSchedule Parse(RequestBody body, string instanceId, DateTimeOffset now)
    {
        if (body.FieldNames.FirstOrDefault(f => !Fields.Contains(f)) is { } unknown)
        {
            throw StewardException.BadRequest($"unknown field '{unknown}'; a rehearsal schedule has: {string.Join(", ", Fields)} (a drill rehearses the newest succeeded backup; retention and the backup kind belong to the backup schedule)");
        }

        var every = body.OptionalString("every") is { } e ? ScheduleTiming.ParseInterval(e) : (TimeSpan?)null;
        var cron = body.OptionalString("cron");
        var zone = body.OptionalString("time_zone");
        if (every is not null && zone is not null)
        {
            throw StewardException.BadRequest("'time_zone' applies to a cron expression, not to an interval");
        }

        var timing = ScheduleTiming.Parse(cron, zone, every);
        return new DrillSchedule
        {
            InstanceId = instanceId,
            Cron = cron?.Trim(),
            TimeZone = timing.Zone.Id,
            Every = every,
            NextRunAt = now,
            DueAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    private static async Task<ServiceInstance> InstanceAsync(IStateStore store, string instanceId, CancellationToken ct)
    {
        var instance = await store.GetInstanceAsync(instanceId, ct);
        return instance is null || instance.State == InstanceState.Deleted
            ? throw StewardException.NotFound($"instance {instanceId} does not exist")
            : instance;
    }
}

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
            await ScheduleRequest.InstanceAsync(store, instanceId, ct);
            var schedule = await schedules.GetDrillScheduleAsync(instanceId, ct)
                ?? throw StewardException.NotFound($"instance {instanceId} has no rehearsal schedule");
            return OsbJson.Result(Describe(schedule));
        });
        api.MapPut("/instances/{instanceId}/rehearsal-schedule", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] IEnumerable<IRehearsalEngine> rehearsalEngines, [FromServices] IPlanDefaults plans, [FromServices] DrillScheduler scheduler, [FromServices] StewardOptions options, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            var instance = await ScheduleRequest.InstanceAsync(store, instanceId, ct);
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
            ScheduleRequest.RequireAllowedGap(http, plans, instance, ScheduleTiming.Of(spec), now);
            return OsbJson.Result(Describe(await scheduler.SetAsync(spec, ct)));
        });
        api.MapDelete("/instances/{instanceId}/rehearsal-schedule", async (string instanceId, [FromServices] IStateStore store, [FromServices] DrillScheduler scheduler, CancellationToken ct) =>
        {
            await ScheduleRequest.InstanceAsync(store, instanceId, ct);
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
        source = s.Source,
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

        var (cron, every, timing) = ScheduleRequest.Timing(body);
        return new DrillSchedule
        {
            InstanceId = instanceId,
            Cron = cron,
            TimeZone = timing.Zone.Id,
            Every = every,
            NextRunAt = now,
            DueAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }
}

using Steward.Errors;
using Steward.Instances;
using Steward.Server.Http;
using Steward.State;

namespace Steward.Server.Backups.Schedules;

/// <summary>What the schedule endpoints (backup schedules, rehearsal drills) read and check alike.</summary>
internal static class ScheduleRequest
{
    /// <summary>The instance a schedule endpoint names; 404 when it does not exist or is deleted.</summary>
    public static async Task<ServiceInstance> InstanceAsync(IStateStore store, string instanceId, CancellationToken ct)
    {
        var instance = await store.GetInstanceAsync(instanceId, ct);
        return instance is null || instance.State == InstanceState.Deleted
            ? throw StewardException.NotFound($"instance {instanceId} does not exist")
            : instance;
    }

    /// <summary>The timing of a schedule body (<c>cron</c> with an optional <c>time_zone</c>, or <c>every</c>), validated.</summary>
    public static (string? Cron, TimeSpan? Every, ScheduleTiming Timing) Timing(RequestBody body)
    {
        var every = body.OptionalString("every") is { } e ? ScheduleTiming.ParseInterval(e) : (TimeSpan?)null;
        var cron = body.OptionalString("cron");
        var zone = body.OptionalString("time_zone");
        if (every is not null && zone is not null)
        {
            throw StewardException.BadRequest("'time_zone' applies to a cron expression, not to an interval");
        }

        return (cron?.Trim(), every, ScheduleTiming.Parse(cron, zone, every));
    }

    /// <summary>Refuses a schedule an instance token sets that runs more often than the instance's plan allows it; the broker's credentials are not bound.</summary>
    public static void RequireAllowedGap(HttpContext http, IPlanDefaults plans, ServiceInstance instance, ScheduleTiming timing, DateTimeOffset now)
    {
        if (Caller.From(http.User).IsBroker)
        {
            return;
        }

        var minimum = plans.MinimumInterval(instance);
        var gap = timing.MinimumGap(now);
        if (gap < minimum)
        {
            throw StewardException.BadRequest($"this schedule runs every {ScheduleTiming.Format(gap)} at the shortest; the instance's plan allows an instance token {ScheduleTiming.Format(minimum)} at the shortest");
        }
    }
}

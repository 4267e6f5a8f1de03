using Steward.Backups;
using Steward.Instances;
using Steward.Rehearsals;
using Steward.Server.Operations;

namespace Steward.Server.Backups.Schedules;

/// <summary>Plan defaults from <see cref="BackupScheduleOptions"/>, looked up by the instance's service and plan names.</summary>
internal sealed class PlanDefaults(BackupScheduleOptions options, EngineRegistry engines) : IPlanDefaults
{
    public BackupSchedule? DefaultFor(ServiceInstance instance, DateTimeOffset now)
    {
        var (service, plan) = Names(instance);
        return options.PlanDefault(service, plan, instance.Id, now);
    }

    public DrillSchedule? DrillDefaultFor(ServiceInstance instance, DateTimeOffset now)
    {
        var (service, plan) = Names(instance);
        return options.DrillDefault(service, plan, instance.Id, now);
    }

    public TimeSpan MinimumInterval(ServiceInstance instance)
    {
        var (service, plan) = Names(instance);
        return options.MinimumInterval(service, plan);
    }

    private (string Service, string Plan) Names(ServiceInstance instance)
    {
        // Offering, not Engine: an instance whose engine left the catalog (binaries missing) keeps its schedule entry.
        var offering = engines.Offering(instance.ServiceId);
        return (offering.Name, offering.FindPlan(instance.PlanId)?.Name ?? instance.PlanId);
    }
}

using Steward.Backups;
using Steward.Instances;

namespace Steward.Server.Backups.Schedules;

/// <summary>The operator's per-plan schedule defaults and limits.</summary>
internal interface IPlanDefaults
{
    /// <summary>The plan's default schedule for this instance, or null when its plan has none.</summary>
    BackupSchedule? DefaultFor(ServiceInstance instance, DateTimeOffset now);

    /// <summary>The shortest gap between runs an instance token may schedule on this instance's plan.</summary>
    TimeSpan MinimumInterval(ServiceInstance instance);
}

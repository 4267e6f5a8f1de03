using Steward.Backups;
using Steward.Instances;
using Steward.Rehearsals;

namespace Steward.Server.Backups.Schedules;

/// <summary>The operator's per-plan schedule defaults and limits.</summary>
internal interface IPlanDefaults
{
    /// <summary>The plan's default schedule for this instance, or null when its plan has none.</summary>
    BackupSchedule? DefaultFor(ServiceInstance instance, DateTimeOffset now);

    /// <summary>The plan's default restore drill for this instance, or null when its plan has none.</summary>
    DrillSchedule? DrillDefaultFor(ServiceInstance instance, DateTimeOffset now);

    /// <summary>The shortest gap between runs an instance token may schedule on this instance's plan.</summary>
    TimeSpan MinimumInterval(ServiceInstance instance);
}

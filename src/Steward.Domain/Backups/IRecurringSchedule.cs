namespace Steward.Backups;

/// <summary>
/// What every recurring schedule of an instance has, whatever it runs (a backup, a restore rehearsal): its timing,
/// when it runs next, the run it started and has not yet seen finish, and how its last run ended.
/// </summary>
public interface IRecurringSchedule
{
    string InstanceId { get; }

    /// <summary>Where the schedule comes from: the instance's own (<c>instance</c>) or its plan's default (<c>plan</c>), which follows the operator's setting.</summary>
    string Source { get; }

    /// <summary>A cron expression; null when <see cref="Every"/> is set.</summary>
    string? Cron { get; }

    /// <summary>The IANA time zone the cron expression is read in.</summary>
    string TimeZone { get; }

    /// <summary>A plain interval; null when <see cref="Cron"/> is set.</summary>
    TimeSpan? Every { get; }

    /// <summary>The next occurrence of the schedule itself (before jitter).</summary>
    DateTimeOffset NextRunAt { get; }

    /// <summary>When the next run starts: <see cref="NextRunAt"/> plus the instance's jitter, or later while it is busy.</summary>
    DateTimeOffset DueAt { get; }

    /// <summary>The id of the run this schedule started and has not yet seen finish.</summary>
    string? RunningId { get; }

    DateTimeOffset? LastRunAt { get; }

    string? LastResult { get; }

    string? LastMessage { get; }

    string? IncidentId { get; }

    DateTimeOffset CreatedAt { get; }

    DateTimeOffset UpdatedAt { get; }
}

using Steward.Backups;

namespace Steward.Rehearsals;

/// <summary>
/// A recurring restore rehearsal ("drill") of one instance: when it runs (a cron expression or an interval, like a
/// backup schedule), what it is running, and how its last run ended. Beside the instance's backup schedule, not
/// instead of it: each drill rehearses the newest succeeded backup.
/// </summary>
public sealed record DrillSchedule : IRecurringSchedule
{
    public required string InstanceId { get; init; }

    /// <summary><c>instance</c> (set for the instance, through the API) or <c>plan</c> (the operator's default for its plan, STEWARD_REHEARSAL_SCHEDULE).</summary>
    public string Source { get; init; } = "instance";

    /// <summary>A cron expression (5 fields, or 6 with seconds first); null when <see cref="Every"/> is set.</summary>
    public string? Cron { get; init; }

    /// <summary>The IANA time zone the cron expression is read in.</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>A plain interval; null when <see cref="Cron"/> is set.</summary>
    public TimeSpan? Every { get; init; }

    /// <summary>The next occurrence of the schedule itself (before jitter).</summary>
    public required DateTimeOffset NextRunAt { get; init; }

    /// <summary>When the next drill starts: <see cref="NextRunAt"/> plus this instance's jitter, or later while the instance is busy.</summary>
    public required DateTimeOffset DueAt { get; init; }

    /// <summary>The rehearsal this schedule started and has not yet seen finish.</summary>
    public string? RunningRehearsalId { get; init; }

    string? IRecurringSchedule.RunningId => RunningRehearsalId;

    public DateTimeOffset? LastRunAt { get; init; }

    public string? LastRehearsalId { get; init; }

    /// <summary>passed, failed, interrupted or skipped.</summary>
    public string? LastResult { get; init; }

    public string? LastMessage { get; init; }

    /// <summary>The backup-not-restorable incident the last failed drill opened, until a later drill passes.</summary>
    public string? IncidentId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Whether the timing (not the run state) equals <paramref name="other"/>'s.</summary>
    public bool SameSpec(DrillSchedule other) => Cron == other.Cron && TimeZone == other.TimeZone && Every == other.Every;
}

namespace Steward.Backups;

/// <summary>
/// One instance's backup schedule and where it stands. The timing is either a cron expression evaluated in
/// <see cref="TimeZone"/> or a plain interval; the run times are kept durably so a restarted broker knows
/// what it missed.
/// </summary>
public sealed record BackupSchedule : IRecurringSchedule
{
    public required string InstanceId { get; init; }

    /// <summary>Where the schedule comes from: the instance's own (<c>instance</c>) or its plan's default (<c>plan</c>).</summary>
    public required string Source { get; init; }

    /// <summary>A cron expression (5 fields, or 6 with seconds first); null when <see cref="Every"/> is set.</summary>
    public string? Cron { get; init; }

    /// <summary>The IANA time zone the cron expression is read in.</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>A plain interval; null when <see cref="Cron"/> is set.</summary>
    public TimeSpan? Every { get; init; }

    /// <summary>The backup method, or null for the service's default.</summary>
    public string? Kind { get; init; }

    public RetentionPolicy Retention { get; init; } = RetentionPolicy.None;

    /// <summary>The next occurrence of the schedule itself (before jitter).</summary>
    public required DateTimeOffset NextRunAt { get; init; }

    /// <summary>When the next run starts: <see cref="NextRunAt"/> plus this instance's jitter.</summary>
    public required DateTimeOffset DueAt { get; init; }

    /// <summary>When a failed run is tried again, if it is.</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>Failed attempts of the current run.</summary>
    public int Attempts { get; init; }

    /// <summary>The backup this schedule started and has not yet seen finish.</summary>
    public string? RunningBackupId { get; init; }

    string? IRecurringSchedule.RunningId => RunningBackupId;

    public DateTimeOffset? LastRunAt { get; init; }

    public string? LastBackupId { get; init; }

    /// <summary>succeeded, failed or skipped.</summary>
    public string? LastResult { get; init; }

    public string? LastMessage { get; init; }

    /// <summary>The open backup-failed incident of this schedule, if any.</summary>
    public string? IncidentId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Whether the timing and policy (not the run state) equal <paramref name="other"/>'s.</summary>
    public bool SameSpec(BackupSchedule other) =>
        Cron == other.Cron && TimeZone == other.TimeZone && Every == other.Every && Kind == other.Kind && Retention == other.Retention;
}

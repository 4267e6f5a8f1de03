using Steward.Backups;
using Steward.State;

namespace Steward.Server.Backups.Schedules;

/// <summary>How a schedule and an instance's backup recency read in the API (schedule show, instance details).</summary>
internal sealed class ScheduleView(IScheduleStore schedules, BackupScheduleOptions options, TimeProvider time)
{
    /// <summary>The <c>backup</c> section of instance details: schedule, last successful backup, its age, overdue.</summary>
    public async Task<object> InstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var schedule = await schedules.GetScheduleAsync(instanceId, cancellationToken);
        var last = (await schedules.LastSuccessfulBackupsAsync(cancellationToken)).TryGetValue(instanceId, out var t) ? t : (DateTimeOffset?)null;
        var now = time.GetUtcNow();
        return new
        {
            schedule = schedule is null ? null : Describe(schedule, last),
            last_successful_backup_at = last,
            last_successful_backup_age_seconds = last is { } l ? Math.Round((now - l).TotalSeconds) : (double?)null,
            backup_overdue = schedule is not null && Overdue(schedule, last, now),
        };
    }

    public async Task<object> DescribeAsync(BackupSchedule schedule, CancellationToken cancellationToken)
    {
        var last = (await schedules.LastSuccessfulBackupsAsync(cancellationToken)).TryGetValue(schedule.InstanceId, out var t) ? t : (DateTimeOffset?)null;
        return Describe(schedule, last);
    }

    /// <summary>
    /// Overdue: no successful backup by the first run the schedule promised after the last one (or after the
    /// schedule was made), plus jitter and <see cref="BackupScheduleOptions.OverdueGrace"/>.
    /// </summary>
    public bool Overdue(BackupSchedule schedule, DateTimeOffset? lastSuccess, DateTimeOffset now)
    {
        var timing = ScheduleTiming.Of(schedule);
        var since = lastSuccess ?? schedule.CreatedAt;
        var promised = timing.Next(since, since);
        return promised != DateTimeOffset.MaxValue && now > ScheduleJitter.Due(schedule.InstanceId, timing, promised, options.MaxJitter) + options.OverdueGrace;
    }

    private object Describe(BackupSchedule s, DateTimeOffset? last)
    {
        var now = time.GetUtcNow();
        return new
        {
            instance_id = s.InstanceId,
            source = s.Source,
            cron = s.Cron,
            time_zone = s.TimeZone,
            every = s.Every is { } e ? ScheduleTiming.Format(e) : null,
            kind = s.Kind,
            retention = new { keep_last = s.Retention.KeepLast, keep_daily = s.Retention.KeepDaily, keep_weekly = s.Retention.KeepWeekly, keep_monthly = s.Retention.KeepMonthly },
            next_run_at = BackupScheduler.NextAttempt(s),
            scheduled_for = s.NextRunAt,
            running_backup_id = s.RunningBackupId,
            last_run_at = s.LastRunAt,
            last_backup_id = s.LastBackupId,
            last_result = s.LastResult,
            last_message = s.LastMessage,
            failed_attempts = s.Attempts,
            retry_at = s.RetryAt,
            open_incident = s.IncidentId,
            last_successful_backup_at = last,
            last_successful_backup_age_seconds = last is { } l ? Math.Round((now - l).TotalSeconds) : (double?)null,
            backup_overdue = Overdue(s, last, now),
            created_at = s.CreatedAt,
            updated_at = s.UpdatedAt,
        };
    }
}

using System.Collections;
using System.Globalization;
using Steward.Backups;
using Steward.Errors;
using Steward.Rehearsals;

namespace Steward.Server.Backups.Schedules;

/// <summary>
/// Settings of scheduled backups and retention, from STEWARD_BACKUP_* environment variables. A plan's default
/// schedule, retention and minimum interval can be set for all plans (<c>STEWARD_BACKUP_SCHEDULE</c>) and
/// overridden per plan with a <c>_&lt;SERVICE&gt;_&lt;PLAN&gt;</c> suffix (e.g. <c>STEWARD_BACKUP_SCHEDULE_REDIS_STANDALONE</c>).
/// </summary>
internal sealed record BackupScheduleOptions
{
    /// <summary>STEWARD_BACKUP_SCHEDULE[_SERVICE_PLAN]: the plan's default, a cron expression or an interval (6h); unset or <c>off</c>: none.</summary>
    public IReadOnlyDictionary<string, string> PlanSchedules { get; init; } = new Dictionary<string, string>();

    /// <summary>STEWARD_REHEARSAL_SCHEDULE[_SERVICE_PLAN]: the plan's default restore drill, a cron expression or an interval (7d); unset or <c>off</c>: none.</summary>
    public IReadOnlyDictionary<string, string> PlanDrills { get; init; } = new Dictionary<string, string>();

    /// <summary>STEWARD_BACKUP_SCHEDULE_TIME_ZONE: the time zone of plan schedules, backups and drills (default UTC).</summary>
    public string PlanTimeZone { get; init; } = "UTC";

    /// <summary>STEWARD_BACKUP_RETENTION[_SERVICE_PLAN]: the plan's default retention, e.g. <c>last=3,daily=7,weekly=4,monthly=6</c>.</summary>
    public IReadOnlyDictionary<string, string> PlanRetention { get; init; } = new Dictionary<string, string>();

    /// <summary>STEWARD_BACKUP_MIN_INTERVAL[_SERVICE_PLAN]: the shortest gap between runs an instance token may schedule (default 1h).</summary>
    public IReadOnlyDictionary<string, TimeSpan> PlanMinimumInterval { get; init; } = new Dictionary<string, TimeSpan>();

    /// <summary>STEWARD_BACKUP_MAX_CONCURRENT: backups this broker runs at once; scheduled runs wait for a free slot (default 2).</summary>
    public int MaxConcurrent { get; init; } = 2;

    /// <summary>STEWARD_BACKUP_JITTER: the largest delay added to a run so instances due at the same moment spread out (default 5m; at most a tenth of the gap to the next run).</summary>
    public TimeSpan MaxJitter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>STEWARD_BACKUP_RETRIES: attempts after a failed scheduled run, never past the next run (default 3).</summary>
    public int Retries { get; init; } = 3;

    /// <summary>STEWARD_BACKUP_RETRY_DELAY: delay before the first retry, doubled for each further one (default 5m).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>STEWARD_BACKUP_OVERDUE_GRACE: how long past its promised time a backup may be before it is reported overdue (default 1h).</summary>
    public TimeSpan OverdueGrace { get; init; } = TimeSpan.FromHours(1);

    /// <summary>STEWARD_BACKUP_SCHEDULER_TICK: how often the scheduler looks for due runs (default 1s).</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(1);

    public static BackupScheduleOptions FromEnvironment() => From(Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? string.Empty, StringComparer.Ordinal));

    public static BackupScheduleOptions From(IReadOnlyDictionary<string, string> env)
    {
        string? Get(string name) => env.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
        TimeSpan Duration(string name, TimeSpan fallback) => Get(name) is { } v ? Parse(name, v, s => s == "0" ? TimeSpan.Zero : ScheduleTiming.ParseInterval(s)) : fallback;
        int Count(string name, int fallback, int min) => Get(name) is { } v
            ? int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min ? n : throw new ArgumentException($"{name}='{v}' is not a whole number of at least {min}")
            : fallback;

        var schedules = PerPlan(env, "STEWARD_BACKUP_SCHEDULE", exclude: "STEWARD_BACKUP_SCHEDULE_TIME_ZONE");
        var drills = PerPlan(env, "STEWARD_REHEARSAL_SCHEDULE");
        var retention = PerPlan(env, "STEWARD_BACKUP_RETENTION");
        var minimum = PerPlan(env, "STEWARD_BACKUP_MIN_INTERVAL").ToDictionary(p => p.Key, p => Parse("STEWARD_BACKUP_MIN_INTERVAL" + p.Key, p.Value, ScheduleTiming.ParseInterval), StringComparer.Ordinal);
        var options = new BackupScheduleOptions
        {
            PlanSchedules = schedules,
            PlanDrills = drills,
            PlanTimeZone = Get("STEWARD_BACKUP_SCHEDULE_TIME_ZONE") ?? "UTC",
            PlanRetention = retention,
            PlanMinimumInterval = minimum,
            MaxConcurrent = Count("STEWARD_BACKUP_MAX_CONCURRENT", 2, 1),
            MaxJitter = Duration("STEWARD_BACKUP_JITTER", TimeSpan.FromMinutes(5)),
            Retries = Count("STEWARD_BACKUP_RETRIES", 3, 0),
            RetryDelay = Duration("STEWARD_BACKUP_RETRY_DELAY", TimeSpan.FromMinutes(5)),
            OverdueGrace = Duration("STEWARD_BACKUP_OVERDUE_GRACE", TimeSpan.FromHours(1)),
            Tick = Duration("STEWARD_BACKUP_SCHEDULER_TICK", TimeSpan.FromSeconds(1)),
        };

        // Every plan value must be valid at start, not at the first run.
        foreach (var (suffix, value) in schedules)
        {
            _ = Parse("STEWARD_BACKUP_SCHEDULE" + suffix, value, v => options.Template(v, null) is { } t ? ScheduleTiming.Of(t) : null);
        }

        foreach (var (suffix, value) in drills)
        {
            _ = Parse("STEWARD_REHEARSAL_SCHEDULE" + suffix, value, v => options.DrillTemplate(v) is { } t ? ScheduleTiming.Of(t) : null);
        }

        foreach (var (suffix, value) in retention)
        {
            _ = Parse("STEWARD_BACKUP_RETENTION" + suffix, value, ParseRetention);
        }

        return options.Tick > TimeSpan.Zero ? options : throw new ArgumentException("STEWARD_BACKUP_SCHEDULER_TICK must be positive");
    }

    /// <summary>The plan's default schedule for <paramref name="instanceId"/>, or null when the plan has none.</summary>
    public BackupSchedule? PlanDefault(string service, string plan, string instanceId, DateTimeOffset now)
    {
        var value = Lookup(PlanSchedules, service, plan);
        if (value is null)
        {
            return null;
        }

        var template = Template(value, Lookup(PlanRetention, service, plan));
        return template is null ? null : template with { InstanceId = instanceId, CreatedAt = now, UpdatedAt = now };
    }

    /// <summary>The plan's default restore drill for <paramref name="instanceId"/>, or null when the plan has none.</summary>
    public DrillSchedule? DrillDefault(string service, string plan, string instanceId, DateTimeOffset now) =>
        Lookup(PlanDrills, service, plan) is { } value && DrillTemplate(value) is { } template
            ? template with { InstanceId = instanceId, CreatedAt = now, UpdatedAt = now }
            : null;

    public TimeSpan MinimumInterval(string service, string plan) =>
        PlanMinimumInterval.TryGetValue(Suffix(service, plan), out var t) || PlanMinimumInterval.TryGetValue(string.Empty, out t) ? t : TimeSpan.FromHours(1);

    /// <summary>Parses <c>last=3,daily=7,weekly=4,monthly=6</c>.</summary>
    public static RetentionPolicy ParseRetention(string text)
    {
        var policy = RetentionPolicy.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                throw new ArgumentException($"'{part}' is not name=count");
            }

            policy = kv[0] switch
            {
                "last" => policy with { KeepLast = n },
                "daily" => policy with { KeepDaily = n },
                "weekly" => policy with { KeepWeekly = n },
                "monthly" => policy with { KeepMonthly = n },
                _ => throw new ArgumentException($"'{kv[0]}' is not last, daily, weekly or monthly"),
            };
        }

        return policy;
    }

    /// <summary>A plan value read as a cron expression or an interval (<c>6h</c>); null for <c>off</c>.</summary>
    private static (string? Cron, TimeSpan? Every)? Timing(string value)
    {
        if (value.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var isInterval = char.IsAsciiDigit(value.Trim()[0]) && !value.Trim().Contains(' ', StringComparison.Ordinal);
        return isInterval ? (null, ScheduleTiming.ParseInterval(value)) : (value.Trim(), null);
    }

    private DrillSchedule? DrillTemplate(string value) => Timing(value) is { } timing
        ? new DrillSchedule
        {
            InstanceId = string.Empty,
            Source = "plan",
            Cron = timing.Cron,
            Every = timing.Every,
            TimeZone = PlanTimeZone,
            NextRunAt = DateTimeOffset.MinValue,
            DueAt = DateTimeOffset.MinValue,
            CreatedAt = DateTimeOffset.MinValue,
            UpdatedAt = DateTimeOffset.MinValue,
        }
        : null;

    private BackupSchedule? Template(string value, string? retention)
    {
        if (Timing(value) is not { } timing)
        {
            return null;
        }

        return new BackupSchedule
        {
            InstanceId = string.Empty,
            Source = "plan",
            Cron = timing.Cron,
            Every = timing.Every,
            TimeZone = PlanTimeZone,
            Retention = retention is null ? RetentionPolicy.None : ParseRetention(retention),
            NextRunAt = DateTimeOffset.MinValue,
            DueAt = DateTimeOffset.MinValue,
            CreatedAt = DateTimeOffset.MinValue,
            UpdatedAt = DateTimeOffset.MinValue,
        };
    }

    private static string? Lookup(IReadOnlyDictionary<string, string> values, string service, string plan) =>
        values.TryGetValue(Suffix(service, plan), out var specific) ? specific : values.TryGetValue(string.Empty, out var all) ? all : null;

    private static string Suffix(string service, string plan) =>
        "_" + new string($"{service}_{plan}".Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_').ToArray());

    /// <summary>Values of <paramref name="prefix"/> (key "") and of <paramref name="prefix"/>_SERVICE_PLAN (key "_SERVICE_PLAN").</summary>
    private static Dictionary<string, string> PerPlan(IReadOnlyDictionary<string, string> env, string prefix, string? exclude = null) =>
        env.Where(e => e.Value.Length > 0 && e.Key != exclude && (e.Key == prefix || e.Key.StartsWith(prefix + "_", StringComparison.Ordinal)))
            .ToDictionary(e => e.Key[prefix.Length..], e => e.Value, StringComparer.Ordinal);

    private static T Parse<T>(string name, string value, Func<string, T> parse)
    {
        try
        {
            return parse(value);
        }
        catch (Exception ex) when (ex is StewardException or ArgumentException)
        {
            throw new ArgumentException($"{name}='{value}': {ex.Message}", ex);
        }
    }
}

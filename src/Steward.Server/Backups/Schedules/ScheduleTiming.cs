using System.Globalization;
using System.Text.RegularExpressions;
using Cronos;
using Steward.Backups;
using Steward.Errors;

namespace Steward.Server.Backups.Schedules;

/// <summary>
/// When a schedule fires: a cron expression (5 fields, or 6 with seconds first, or a macro such as
/// <c>@daily</c>) read in an IANA time zone, with Cronos's daylight-saving rules (a time skipped by the
/// spring change runs at the first valid instant after it; a time repeated in autumn runs once), or a
/// plain interval. Construction validates and throws a precise 400.
/// </summary>
internal sealed partial class ScheduleTiming
{
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(400);
    private readonly CronExpression? _cron;

    private ScheduleTiming(CronExpression? cron, TimeZoneInfo zone, TimeSpan? every)
    {
        _cron = cron;
        Zone = zone;
        Every = every;
    }

    public TimeZoneInfo Zone { get; }

    public TimeSpan? Every { get; }

    public static ScheduleTiming Of(IRecurringSchedule schedule) => Parse(schedule.Cron, schedule.TimeZone, schedule.Every);

    /// <summary>Validates a cron expression or an interval (exactly one) and a time zone.</summary>
    public static ScheduleTiming Parse(string? cron, string? timeZone, TimeSpan? every)
    {
        if ((cron is null) == (every is null))
        {
            throw StewardException.BadRequest("a schedule needs exactly one of 'cron' (a cron expression) and 'every' (an interval such as 6h)");
        }

        var zone = FindZone(timeZone ?? "UTC");
        if (every is { } interval)
        {
            return interval < TimeSpan.FromSeconds(1)
                ? throw StewardException.BadRequest($"interval {Format(interval)} is shorter than one second")
                : new ScheduleTiming(null, zone, interval);
        }

        var text = cron!.Trim();
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (!text.StartsWith('@') && fields is not (5 or 6))
        {
            throw StewardException.BadRequest($"cron expression '{cron}' has {fields} field(s); expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)");
        }

        try
        {
            var expression = CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            return expression.GetNextOccurrence(DateTimeOffset.UnixEpoch, zone) is null
                ? throw StewardException.BadRequest($"cron expression '{cron}' never fires")
                : new ScheduleTiming(expression, zone, null);
        }
        catch (CronFormatException ex)
        {
            throw StewardException.BadRequest($"cron expression '{cron}' is malformed: {ex.Message}");
        }
    }

    public static TimeZoneInfo FindZone(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw StewardException.BadRequest($"time zone '{id}' is unknown; use an IANA name such as UTC, Europe/Berlin or America/New_York");
        }
    }

    /// <summary>Parses an interval such as <c>90s</c>, <c>15m</c>, <c>6h</c>, <c>1d</c> or <c>1h30m</c>.</summary>
    public static TimeSpan ParseInterval(string text)
    {
        var match = IntervalPattern().Match(text.Trim());
        if (!match.Success)
        {
            throw StewardException.BadRequest($"interval '{text}' is not a duration such as 90s, 15m, 6h, 1d or 1h30m");
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value[^1];
            if (!long.TryParse(part.Value[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 100_000)
            {
                throw StewardException.BadRequest($"interval '{text}' is too long");
            }

            total += unit switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), 'm' => TimeSpan.FromMinutes(n), _ => TimeSpan.FromSeconds(n) };
        }

        return total;
    }

    public static string Format(TimeSpan t)
    {
        if (t <= TimeSpan.Zero)
        {
            return "0s";
        }

        var parts = new List<string>();
        if (t.Days > 0)
        {
            parts.Add($"{t.Days}d");
        }

        if (t.Hours > 0)
        {
            parts.Add($"{t.Hours}h");
        }

        if (t.Minutes > 0)
        {
            parts.Add($"{t.Minutes}m");
        }

        if (t.Seconds > 0 || parts.Count == 0)
        {
            parts.Add($"{t.Seconds}s");
        }

        return string.Concat(parts);
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>; for an interval, <paramref name="previous"/> plus the interval, or one interval from now when that has passed.</summary>
    public DateTimeOffset Next(DateTimeOffset after, DateTimeOffset? previous = null)
    {
        if (Every is { } every)
        {
            var next = (previous ?? after) + every;
            return next > after ? next : after + every;
        }

        return _cron!.GetNextOccurrence(after, Zone) ?? DateTimeOffset.MaxValue;
    }

    /// <summary>The shortest gap between consecutive runs over the next 400 days (at most 2,000 runs looked at).</summary>
    public TimeSpan MinimumGap(DateTimeOffset from)
    {
        if (Every is { } every)
        {
            return every;
        }

        var min = TimeSpan.MaxValue;
        var previous = Next(from);
        for (var i = 0; i < 2000 && previous - from < Horizon; i++)
        {
            var next = Next(previous);
            if (next == DateTimeOffset.MaxValue)
            {
                break;
            }

            min = next - previous < min ? next - previous : min;
            previous = next;
        }

        return min;
    }

    [GeneratedRegex("^(?<part>[0-9]+[smhd])+$")]
    private static partial Regex IntervalPattern();
}

using System.Globalization;
using Steward.Backups;

namespace Steward.Server.Backups.Retention;

/// <summary>
/// restic <c>forget</c> semantics over an instance's succeeded backups, per backup kind, newest first by
/// completion time: keep-last keeps the newest N; keep-daily/weekly/monthly keep the newest backup of each
/// of the last N days / ISO weeks / months (in the schedule's time zone) that have a backup. A backup kept by
/// any rule is kept. Pinned and protected backups are kept too, and the newest backup of each kind is always
/// kept: the latest recovery point never depends on a policy being right. The backups a kept incremental backup builds
/// on are kept with it (reason <c>chain of</c>).
/// </summary>
internal static class RetentionPlanner
{
    public static IReadOnlyList<RetentionDecision> Plan(IEnumerable<BackupRecord> backups, RetentionPolicy policy, IReadOnlySet<string> pinned, IReadOnlySet<string> protectedIds, TimeZoneInfo zone)
    {
        var decisions = new List<RetentionDecision>();
        foreach (var kind in backups.Where(b => b.State == BackupState.Succeeded && b.CompletedAt is not null).GroupBy(b => b.Kind, StringComparer.Ordinal))
        {
            var newestFirst = kind.OrderByDescending(b => b.CompletedAt).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
            var reasons = newestFirst.ToDictionary(b => b.Id, _ => new List<string>(), StringComparer.Ordinal);
            reasons[newestFirst[0].Id].Add("newest");
            Apply(newestFirst, reasons, policy.KeepLast, "last", b => b.Id);
            Apply(newestFirst, reasons, policy.KeepDaily, "daily", b => Local(b, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            Apply(newestFirst, reasons, policy.KeepWeekly, "weekly", b => Week(Local(b, zone)));
            Apply(newestFirst, reasons, policy.KeepMonthly, "monthly", b => Local(b, zone).ToString("yyyy-MM", CultureInfo.InvariantCulture));
            foreach (var b in newestFirst)
            {
                if (pinned.Contains(b.Id))
                {
                    reasons[b.Id].Add("pinned");
                }

                if (protectedIds.Contains(b.Id))
                {
                    reasons[b.Id].Add("protected");
                }
            }

            // An incremental backup is restored from the backups it builds on: whatever keeps it keeps them.
            foreach (var b in newestFirst.Where(b => reasons[b.Id].Count > 0 && !reasons[b.Id].All(r => r.StartsWith("chain of ", StringComparison.Ordinal))))
            {
                foreach (var parent in BackupService.Parents(b).Where(reasons.ContainsKey))
                {
                    reasons[parent].Add("chain of " + b.Id);
                }
            }

            decisions.AddRange(newestFirst.Select(b => new RetentionDecision(b, reasons[b.Id])));
        }

        return decisions;
    }

    private static void Apply(List<BackupRecord> newestFirst, Dictionary<string, List<string>> reasons, int? count, string rule, Func<BackupRecord, string> bucket)
    {
        if (count is not > 0)
        {
            return;
        }

        var left = count.Value;
        string? last = null;
        foreach (var b in newestFirst)
        {
            if (left == 0)
            {
                return;
            }

            var key = bucket(b);
            if (key != last)
            {
                reasons[b.Id].Add(rule == "last" ? rule : $"{rule} {key}");
                last = key;
                left--;
            }
        }
    }

    private static DateTime Local(BackupRecord b, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(b.CompletedAt!.Value, zone).DateTime;

    private static string Week(DateTime d) => $"{ISOWeek.GetYear(d)}-W{ISOWeek.GetWeekOfYear(d):00}";
}

using System.Globalization;
using System.Text;
using Steward.Instances;
using Steward.Rehearsals;
using Steward.Server.Backups;
using static Steward.Server.Dashboard.Html;

namespace Steward.Server.Dashboard;

/// <summary>
/// The instance page's restore rehearsals: when it was last proven restorable, "Rehearse…", a running rehearsal's
/// step and progress, the latest finished rehearsal's report (each check with its evidence) and the latest rehearsals.
/// </summary>
internal static class DashboardRehearsals
{
    public static void Render(StringBuilder html, ServiceInstance instance, bool restorable, IReadOnlyList<RehearsalRecord> rehearsals, DrillSchedule? drill, ProgressBoard progress)
    {
        html.Append("<section id=\"rehearsals\"><h2>Restore rehearsals</h2>");
        var proven = rehearsals.FirstOrDefault(r => r.State == RehearsalState.Passed);
        html.Append("<p data-testid=\"last-proven\">")
            .Append(proven is null
                ? "Never proven restorable: rehearse a restore of a backup into a sandbox to prove it."
                : $"Last proven restorable: <strong>{Time(proven.FinishedAt!.Value)}</strong> (backup {E(proven.BackupId)}, restored in {proven.RestoreSeconds?.ToString("0.0", CultureInfo.InvariantCulture)} s)")
            .Append("</p>");
        Drill(html, drill);
        var running = rehearsals.FirstOrDefault(r => r.State == RehearsalState.Running);
        if (running is not null)
        {
            html.Append($"<p class=\"progress\" data-testid=\"rehearsal-running\" data-progress=\"{E(running.Id)}\">Rehearsal {E(running.Id)} of backup {E(running.BackupId)}: {E(Step(running, progress.Get(running.Id)))}</p>");
        }
        else if (restorable && instance.State is not InstanceState.Deleted)
        {
            html.Append($"<p><a class=\"button\" href=\"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}/confirm/rehearse\">Rehearse…</a> <small class=\"quiet\">restore the newest backup into an isolated sandbox and check it; the live instance is not touched</small></p>");
        }

        if (rehearsals.FirstOrDefault(r => r.State != RehearsalState.Running) is { } latest)
        {
            Report(html, latest);
        }

        if (rehearsals.Count > 0)
        {
            html.Append("<table><caption>Latest rehearsals</caption><thead><tr><th>rehearsal</th><th>state</th><th>backup</th><th>restore time</th><th>started</th><th>summary</th></tr></thead><tbody>");
            foreach (var r in rehearsals.Take(10))
            {
                html.Append($"<tr data-rehearsal=\"{E(r.Id)}\"><td>{E(r.Id)}</td><td>{Badge(r.State)}</td>")
                    .Append($"<td>{E(r.BackupId)}</td><td>{Seconds(r.RestoreSeconds)}</td><td>{Time(r.StartedAt)}</td><td>{E(r.Summary ?? r.Step)}</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        html.Append("</section>");
    }

    /// <summary>The recurring drill, if the instance has one: timing, next run, last run and its result.</summary>
    private static void Drill(StringBuilder html, DrillSchedule? drill)
    {
        if (drill is null)
        {
            html.Append("<p class=\"quiet\" data-testid=\"drill-schedule\">No recurring drill (<code>steward backup schedule set &lt;instance&gt; --rehearse --every 7d</code>).</p>");
            return;
        }

        var timing = drill.Cron is { } cron ? $"cron <code>{E(cron)}</code> ({E(drill.TimeZone)})" : $"every {E(Backups.Schedules.ScheduleTiming.Format(drill.Every ?? TimeSpan.Zero))}";
        html.Append($"<p data-testid=\"drill-schedule\">Recurring drill: {timing}, the newest succeeded backup · next run {Time(drill.DueAt)}");
        if (drill.LastRunAt is { } last)
        {
            var badge = drill.LastResult switch { "passed" => "healthy", "failed" => "failed", _ => "unknown" };
            html.Append($" · last run {Time(last)} <span class=\"badge {badge}\">{E(drill.LastResult)}</span>");
        }

        html.Append("</p>");
    }

    /// <summary>The report of one finished rehearsal: outcome, restore time, each check with its evidence.</summary>
    private static void Report(StringBuilder html, RehearsalRecord r)
    {
        html.Append($"<table class=\"evidence\" data-testid=\"rehearsal-report\"><caption>Report of {E(r.Id)}: {Badge(r.State)} · backup {E(r.BackupId)} · restore time {Seconds(r.RestoreSeconds)} (whole rehearsal {Seconds(r.TotalSeconds)}) · finished {Time(r.FinishedAt)}");
        html.Append(r.IncidentId is { } incident ? $" · incident <code>{E(incident)}</code>" : string.Empty).Append("</caption><tbody>");
        foreach (var c in r.Checks)
        {
            var result = c.Passed switch { true => "passed", false => "failed", null => "skipped" };
            html.Append($"<tr><th>{E(c.Name)}</th><td><span class=\"badge {(c.Passed == false ? "failed" : c.Passed == true ? "healthy" : "unknown")}\">{result}</span> {E(c.Evidence)}</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static string Badge(RehearsalState state) =>
        $"<span class=\"badge {(state == RehearsalState.Failed ? "failed" : state == RehearsalState.Passed ? "healthy" : "in-progress")}\">{E(state.ToString().ToLowerInvariant())}</span>";

    private static string Step(RehearsalRecord r, BackupProgress? p) =>
        (r.Step ?? "starting") + (p is null ? string.Empty : $" · {Bytes(p.PlaintextBytes)} read, {Bytes(p.StoredBytes)} stored, {Bytes((long)p.BytesPerSecond)}/s, stage {p.Stage}");
}

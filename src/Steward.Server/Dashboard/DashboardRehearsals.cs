using System.Globalization;
using System.Text;
using Steward.Rehearsals;
using static Steward.Server.Dashboard.Html;

namespace Steward.Server.Dashboard;

/// <summary>The instance page's restore rehearsals: when it was last proven restorable, and each rehearsal's outcome and restore time.</summary>
internal static class DashboardRehearsals
{
    public static void Render(StringBuilder html, IReadOnlyList<RehearsalRecord> rehearsals)
    {
        html.Append("<section id=\"rehearsals\"><h2>Restore rehearsals</h2>");
        var proven = rehearsals.FirstOrDefault(r => r.State == RehearsalState.Passed);
        html.Append("<p data-testid=\"last-proven\">")
            .Append(proven is null
                ? "Never proven restorable: run <code>steward rehearse</code> to restore a backup into a sandbox and check it."
                : $"Last proven restorable: <strong>{Time(proven.FinishedAt!.Value)}</strong> (backup {E(proven.BackupId)}, restored in {proven.RestoreSeconds?.ToString("0.0", CultureInfo.InvariantCulture)} s)")
            .Append("</p>");
        if (rehearsals.Count > 0)
        {
            html.Append("<table><thead><tr><th>rehearsal</th><th>state</th><th>backup</th><th>restore time</th><th>started</th><th>summary</th></tr></thead><tbody>");
            foreach (var r in rehearsals.Take(10))
            {
                var state = r.State.ToString().ToLowerInvariant();
                html.Append($"<tr><td>{E(r.Id)}</td><td><span class=\"badge {(r.State == RehearsalState.Failed ? "failed" : r.State == RehearsalState.Passed ? "healthy" : "unknown")}\">{E(state)}</span></td>")
                    .Append($"<td>{E(r.BackupId)}</td><td>{(r.RestoreSeconds is { } s ? s.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "-")}</td><td>{Time(r.StartedAt)}</td><td>{E(r.Summary ?? r.Step)}</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        html.Append("</section>");
    }
}

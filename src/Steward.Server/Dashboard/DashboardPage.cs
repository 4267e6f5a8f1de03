using System.Text;
using System.Text.Json;
using Steward.Backups;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Backups;
using Steward.Server.Backups.Schedules;
using Steward.Server.Events;
using Steward.Server.Operations;
using Steward.Server.Supervision;
using Steward.Supervision;
using static Steward.Server.Dashboard.Html;

namespace Steward.Server.Dashboard;

/// <summary>The page of one instance: plan, member, health and its history, running work, backups, incidents.</summary>
internal sealed class DashboardPage(IServiceProvider services)
{
    private readonly EngineRegistry _engines = services.GetRequiredService<EngineRegistry>();
    private readonly HealthRegistry _health = services.GetRequiredService<HealthRegistry>();
    private readonly ProgressBoard _progress = services.GetRequiredService<ProgressBoard>();
    private readonly EventHub _events = services.GetRequiredService<EventHub>();
    private readonly State.IStateStore _store = services.GetRequiredService<State.IStateStore>();
    private readonly State.IScheduleStore _schedules = services.GetRequiredService<State.IScheduleStore>();
    private readonly ScheduleView _scheduleView = services.GetRequiredService<ScheduleView>();
    private readonly TimeProvider _time = services.GetRequiredService<TimeProvider>();

    public async Task<string> RenderAsync(ServiceInstance instance, string csrf, CancellationToken ct)
    {
        var engine = _engines.Engine(instance.ServiceId);
        var plan = engine.Offering.FindPlan(instance.PlanId);
        var backups = await _store.ListBackupsAsync(instance.Id, ct);
        var incidents = await _store.ListIncidentsAsync(instance.Id, ct);
        var operation = await _store.LatestInstanceOperationAsync(instance.Id, ct);
        var schedule = await _schedules.GetScheduleAsync(instance.Id, ct);
        var rehearsals = await services.GetRequiredService<State.IRehearsalStore>().ListRehearsalsAsync(instance.Id, ct);
        var html = new StringBuilder();
        html.Append($"<h1>{E(instance.Id)}</h1>");
        html.Append($"<p class=\"sub\">{E(engine.Offering.Name)} · plan <strong>{E(plan?.Name)}</strong> · {E(instance.State.ToString().ToLowerInvariant())}</p>");
        html.Append("<form method=\"post\" action=\"/dashboard/logout\" class=\"logout\">").Append(Csrf(csrf)).Append("<button type=\"submit\" class=\"link\">Log out</button></form>");
        html.Append("<div id=\"live\" aria-live=\"polite\">");
        Overview(html, instance, engine.Offering.Name, plan?.Description);
        Health(html, instance);
        Running(html, backups, operation, rehearsals);
        Recoverable(html, instance, engine.Offering.Name, backups);
        Schedule(html, schedule, backups);
        Backups(html, instance, backups);
        var drill = await services.GetRequiredService<State.IDrillScheduleStore>().GetDrillScheduleAsync(instance.Id, ct);
        DashboardRehearsals.Render(html, instance, backups.Any(b => b.State == BackupState.Succeeded), rehearsals, drill, _progress);
        Incidents(html, incidents);
        html.Append("</div>");
        return html.ToString();
    }

    private static string Csrf(string token) => $"<input type=\"hidden\" name=\"csrf\" value=\"{E(token)}\">";

    private void Overview(StringBuilder html, ServiceInstance instance, string service, string? planDescription)
    {
        var paths = _engines.Runtime.PathsFor(instance.InternalId);
        var status = _engines.Runtime.GetStatus(paths);
        html.Append("<section id=\"overview\"><h2>Instance</h2><dl>");
        html.Append($"<dt>Service</dt><dd>{E(service)}</dd><dt>Plan</dt><dd>{E(planDescription)}</dd>");
        html.Append($"<dt>Created</dt><dd>{Time(instance.CreatedAt)}</dd></dl>");
        html.Append("<table><caption>Members</caption><thead><tr><th>member</th><th>role</th><th>address</th><th>process</th></tr></thead><tbody>");
        var process = status is ProcessStatus.Running r ? $"running, pid {r.Pid}" : ServerLog.Describe(status);
        html.Append($"<tr><td>{E(instance.InternalId)}</td><td>primary</td><td>127.0.0.1:{instance.Port}</td><td>{E(process)}</td></tr></tbody></table></section>");
    }

    private void Health(StringBuilder html, ServiceInstance instance)
    {
        var h = _health.Get(instance.Id);
        var status = instance.State == InstanceState.Quarantined ? HealthStatus.Failed : h?.Status ?? HealthStatus.Unknown;
        var name = status.ToString().ToLowerInvariant();
        html.Append("<section id=\"health\"><h2>Health</h2>");
        html.Append($"<p><span class=\"badge {name}\" data-testid=\"health-status\">{name}</span> {E(h?.Detail ?? "not checked yet")}");
        html.Append(h?.LastCheck is { } at ? $" · last check {Time(at)}" : string.Empty).Append("</p>");
        if (instance.State is InstanceState.Ready or InstanceState.Quarantined)
        {
            html.Append($"<p><a class=\"button\" href=\"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}/confirm/rebuild\">Rebuild…</a> <small class=\"quiet\">recreate it from its newest backup, keeping its address and credentials</small></p>");
        }

        var history = _events.Recent(instance.Id, "health");
        if (history.Count > 0)
        {
            html.Append("<table><caption>History since the broker started</caption><thead><tr><th>at</th><th>status</th><th>detail</th></tr></thead><tbody>");
            foreach (var e in history.Reverse().Take(50))
            {
                var data = Data(e);
                html.Append($"<tr><td>{Time(e.At)}</td><td><span class=\"badge {E(data.GetProperty("status").GetString())}\">{E(data.GetProperty("status").GetString())}</span></td><td>{E(data.GetProperty("detail").GetString())}</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        html.Append("</section>");
    }

    private void Running(StringBuilder html, IReadOnlyList<BackupRecord> backups, Operation? operation, IReadOnlyList<Steward.Rehearsals.RehearsalRecord> rehearsals)
    {
        html.Append("<section id=\"running\"><h2>Running now</h2>");
        var any = false;
        foreach (var b in backups.Where(b => b.State == BackupState.InProgress))
        {
            any = true;
            html.Append($"<p class=\"progress\" data-progress=\"{E(b.Id)}\">Backup {E(b.Id)} ({E(b.Kind)}): {E(Progress(_progress.Get(b.Id)))}</p>");
        }

        if (operation is { State: OperationState.InProgress } op)
        {
            any = true;
            html.Append($"<p class=\"progress\" data-progress=\"{E(op.Id)}\">{E(op.Kind.ToString())} {E(op.Id)}: {E(op.Description)}{E(_progress.Get(op.Id) is { } p ? " · " + Progress(p) : string.Empty)}</p>");
        }

        foreach (var r in rehearsals.Where(r => r.State == Steward.Rehearsals.RehearsalState.Running))
        {
            any = true;
            html.Append($"<p>Restore rehearsal {E(r.Id)} of backup {E(r.BackupId)} in a sandbox: {E(r.Step)} (<a href=\"#rehearsals\">progress</a>)</p>");
        }

        if (!any)
        {
            html.Append("<p class=\"quiet\">Nothing is running.</p>");
        }

        html.Append("</section>");
    }

    private static string Progress(BackupProgress? p) => p is null
        ? "starting"
        : $"{Bytes(p.PlaintextBytes)} read, {Bytes(p.StoredBytes)} stored, {Bytes((long)p.BytesPerSecond)}/s, stage {p.Stage}";

    /// <summary>What the instance can be restored to: its succeeded backups, and for PostgreSQL a link to the WAL window.</summary>
    private static void Recoverable(StringBuilder html, ServiceInstance instance, string service, IReadOnlyList<BackupRecord> backups)
    {
        html.Append("<section id=\"recoverable\"><h2>Recoverable</h2>");
        var restorable = backups.Where(b => b.State == BackupState.Succeeded).OrderBy(b => b.StartedAt).ToList();
        if (restorable.Count == 0)
        {
            html.Append("<p class=\"warning\" data-testid=\"recoverable\">Nothing yet: the instance has no succeeded backup to restore from.</p>");
        }
        else
        {
            html.Append($"<p data-testid=\"recoverable\">{restorable.Count} {(restorable.Count == 1 ? "backup" : "backups")} to restore from, the oldest taken {Time(restorable[0].StartedAt)}, the newest {Time(restorable[^1].StartedAt)}.</p>");
        }

        if (service == "postgresql")
        {
            html.Append($"<p>With WAL archiving, any moment inside the <a href=\"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}/recovery-window\">point-in-time window</a> (read from the archive on request).</p>");
        }

        html.Append("</section>");
    }

    private void Schedule(StringBuilder html, BackupSchedule? schedule, IReadOnlyList<BackupRecord> backups)
    {
        html.Append("<section id=\"schedule\"><h2>Backup schedule</h2>");
        if (schedule is null)
        {
            html.Append("<p class=\"quiet\" data-testid=\"schedule\">No schedule: backups are taken on request only (<code>steward backup schedule set</code>).</p></section>");
            return;
        }

        var timing = schedule.Cron is { } cron ? $"cron <code>{E(cron)}</code> ({E(schedule.TimeZone)})" : $"every {E(ScheduleTiming.Format(schedule.Every ?? TimeSpan.Zero))}";
        var r = schedule.Retention;
        var keep = r.IsNone ? "keeps every backup" : "keeps " + string.Join(", ", new[] { ("last", r.KeepLast), ("daily", r.KeepDaily), ("weekly", r.KeepWeekly), ("monthly", r.KeepMonthly) }.Where(k => k.Item2 is not null).Select(k => $"{k.Item1} {k.Item2}"));
        var lastSuccess = backups.Where(b => b.State == BackupState.Succeeded).Max(b => b.CompletedAt);
        var overdue = _scheduleView.Overdue(schedule, lastSuccess, _time.GetUtcNow());
        html.Append($"<p data-testid=\"schedule\">{timing}{(schedule.Kind is { } kind ? $", {E(kind)} backups" : string.Empty)}, {E(keep)} · {(schedule.Source == "plan" ? "the plan's default" : "set for this instance")}");
        html.Append(overdue ? " <span class=\"badge failed\">overdue</span>" : string.Empty).Append("</p><dl>");
        html.Append($"<dt>Next run</dt><dd>{Time(BackupScheduler.NextAttempt(schedule))}{(schedule.RetryAt is not null ? $" (retry {schedule.Attempts + 1})" : string.Empty)}</dd>");
        if (schedule.LastRunAt is { } last)
        {
            html.Append($"<dt>Last run</dt><dd>{Time(last)} <span class=\"badge {E(schedule.LastResult)}\">{E(schedule.LastResult)}</span>{(schedule.LastMessage is { } m ? " " + E(m) : string.Empty)}</dd>");
        }

        html.Append("</dl></section>");
    }

    private static void Backups(StringBuilder html, ServiceInstance instance, IReadOnlyList<BackupRecord> backups)
    {
        html.Append("<section id=\"backups\"><h2>Backups</h2>");
        if (instance.State == InstanceState.Ready)
        {
            html.Append($"<p><a class=\"button\" href=\"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}/confirm/backup\">Back up now</a></p>");
        }

        if (backups.Count == 0)
        {
            html.Append("<p class=\"quiet\">No backups yet.</p></section>");
            return;
        }

        html.Append("<table data-testid=\"backups\"><thead><tr><th>backup</th><th>kind</th><th>state</th><th>started</th><th>duration</th><th>size</th><th>stored</th><th></th></tr></thead><tbody>");
        foreach (var b in backups)
        {
            var state = b.State switch { BackupState.InProgress => "in progress", BackupState.Succeeded => "succeeded", _ => "failed" };
            var duration = b.CompletedAt is { } done ? (done - b.StartedAt).TotalSeconds : (double?)null;
            html.Append($"<tr data-backup=\"{E(b.Id)}\"><td><code>{E(b.Id)}</code></td><td>{E(b.Kind)}</td><td><span class=\"badge {E(state.Replace(' ', '-'))}\">{E(state)}</span>");
            if (b.State == BackupState.Failed)
            {
                html.Append($"<br><small>at {E(b.FailedStage)}: {E(b.Message)}</small>");
            }

            html.Append($"</td><td>{Time(b.StartedAt)}</td><td>{Seconds(duration)}</td><td>{Bytes(b.PlaintextBytes)}</td><td>{Bytes(b.StoredBytes)}</td><td>");
            if (b.State == BackupState.Succeeded && instance.State == InstanceState.Ready)
            {
                html.Append($"<a href=\"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}/confirm/restore?backup={Uri.EscapeDataString(b.Id)}\">Restore…</a>");
                html.Append($" · <a href=\"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}/confirm/rehearse?backup={Uri.EscapeDataString(b.Id)}\">Rehearse…</a>");
            }

            html.Append("</td></tr>");
        }

        html.Append("</tbody></table></section>");
    }

    private static void Incidents(StringBuilder html, IReadOnlyList<Incident> incidents)
    {
        html.Append("<section id=\"incidents\"><h2>Incidents</h2>");
        if (incidents.Count == 0)
        {
            html.Append("<p class=\"quiet\">No incidents.</p></section>");
            return;
        }

        foreach (var i in incidents.Take(100))
        {
            var state = i.State.ToString().ToLowerInvariant();
            html.Append($"<details class=\"incident\" data-incident=\"{E(i.Id)}\"{(i.State == IncidentState.Resolved ? string.Empty : " open")}><summary><span class=\"badge {state}\">{state}</span> <strong>{E(i.Class.Name())}</strong> · {Time(i.OpenedAt)} · {E(i.Summary)}</summary>");
            html.Append($"<p>Restarts: {i.Restarts}{(i.PreservedPath is { } p ? $" · files preserved in <code>{E(p)}</code>" : string.Empty)}</p>");
            html.Append("<ol class=\"timeline\">");
            foreach (var e in i.Timeline)
            {
                html.Append($"<li>{Time(e.At)} <strong>{E(e.Kind)}</strong> {E(e.Detail)}</li>");
            }

            html.Append("</ol><table class=\"evidence\"><caption>Evidence</caption><tbody>");
            foreach (var (key, value) in i.Evidence)
            {
                var text = value switch
                {
                    null => "–",
                    string s => s,
                    JsonElement { ValueKind: JsonValueKind.Array } a => string.Join('\n', a.EnumerateArray().Select(x => x.ToString())),
                    _ => value.ToString(),
                };
                html.Append($"<tr><th>{E(key)}</th><td><pre>{E(text)}</pre></td></tr>");
            }

            html.Append("</tbody></table></details>");
        }

        html.Append("</section>");
    }

    private static JsonElement Data(InstanceEvent e) => JsonDocument.Parse(EventStreamApi.Json(e)).RootElement;
}

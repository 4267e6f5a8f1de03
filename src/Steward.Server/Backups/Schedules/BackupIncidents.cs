using Steward.Backups;
using Steward.Security;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Backups.Schedules;

/// <summary>A failing schedule is one open <c>backup-failed</c> incident, updated per attempt and resolved by the next success.</summary>
internal sealed class BackupIncidents(IStateStore store)
{
    public async Task<string> FailedAsync(BackupSchedule schedule, BackupRecord backup, int attempt, string next, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var what = Describe(backup);
        var incident = schedule.IncidentId is { } id ? await store.GetIncidentAsync(id, cancellationToken) : null;
        if (incident is not { State: IncidentState.Open })
        {
            incident = new Incident
            {
                Id = "inc-" + Secrets.Token(12),
                InstanceId = schedule.InstanceId,
                Class = FailureClass.BackupFailed,
                State = IncidentState.Open,
                Summary = "scheduled backup " + what,
                OpenedAt = now,
                UpdatedAt = now,
            };
        }

        incident = incident with
        {
            Summary = "scheduled backup " + what,
            Evidence = new Dictionary<string, object?>
            {
                ["backup_id"] = backup.Id,
                ["failed_stage"] = backup.FailedStage,
                ["failure_kind"] = backup.FailureKind,
                ["message"] = backup.Message,
                ["attempt"] = attempt,
                ["schedule"] = schedule.Cron ?? ScheduleTiming.Format(schedule.Every ?? TimeSpan.Zero),
            },
        };
        incident = incident.With(now, "backup-failed", $"attempt {attempt}: backup {backup.Id} {what}").With(now, "next", next);
        await store.SaveIncidentAsync(incident, cancellationToken);
        return incident.Id;
    }

    public async Task ResolvedAsync(string incidentId, BackupRecord backup, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await store.GetIncidentAsync(incidentId, cancellationToken) is { State: IncidentState.Open } incident)
        {
            var resolved = incident with { State = IncidentState.Resolved, Summary = incident.Summary + $"; resolved by backup {backup.Id}" };
            await store.SaveIncidentAsync(resolved.With(now, "resolved", $"backup {backup.Id} succeeded"), cancellationToken);
        }
    }

    public static string Describe(BackupRecord backup) =>
        $"failed at stage '{backup.FailedStage}' ({backup.FailureKind}): {backup.Message}";
}

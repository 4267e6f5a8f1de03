using Steward.Rehearsals;
using Steward.Security;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Rehearsals;

/// <summary>
/// A failed rehearsal is an incident: "backup X is not restorable: …", naming the instance, with the rehearsal's
/// checks as evidence. It stays open until a later rehearsal of the same backup passes (the backup itself is the
/// problem: delete it or take a new one, then rehearse again).
/// </summary>
internal sealed class RehearsalIncidents(IStateStore store, TimeProvider time)
{
    public async Task<string> FailedAsync(RehearsalRecord rehearsal, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var open = (await store.ListIncidentsAsync(rehearsal.InstanceId, cancellationToken))
            .FirstOrDefault(i => i.Class == FailureClass.BackupNotRestorable && i.State == IncidentState.Open && Equals(i.Evidence.GetValueOrDefault("backup_id")?.ToString(), rehearsal.BackupId));
        var incident = open ?? new Incident
        {
            Id = "inc-" + Secrets.Token(12),
            InstanceId = rehearsal.InstanceId,
            Class = FailureClass.BackupNotRestorable,
            State = IncidentState.Open,
            Summary = rehearsal.Summary!,
            OpenedAt = now,
            UpdatedAt = now,
        };
        incident = incident with
        {
            Summary = $"instance {rehearsal.InstanceId}: {rehearsal.Summary}",
            Evidence = new Dictionary<string, object?>
            {
                ["backup_id"] = rehearsal.BackupId,
                ["rehearsal_id"] = rehearsal.Id,
                ["target"] = rehearsal.Target,
                ["failed_checks"] = rehearsal.Checks.Where(c => c.Passed == false).Select(c => new Dictionary<string, object?> { ["check"] = c.Name, ["evidence"] = c.Evidence }).ToList(),
                ["what_to_do"] = $"do not rely on backup {rehearsal.BackupId}: take a new backup (steward backup create {rehearsal.InstanceId}) and rehearse it (steward rehearse {rehearsal.InstanceId}); steward rehearsals show {rehearsal.Id} has every check",
            },
        };
        await store.SaveIncidentAsync(incident.With(now, "rehearsal-failed", $"rehearsal {rehearsal.Id}: {rehearsal.Summary}"), cancellationToken);
        return incident.Id;
    }

    public async Task PassedAsync(RehearsalRecord rehearsal, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var incident in (await store.ListIncidentsAsync(rehearsal.InstanceId, cancellationToken))
            .Where(i => i.Class == FailureClass.BackupNotRestorable && i.State == IncidentState.Open && Equals(i.Evidence.GetValueOrDefault("backup_id")?.ToString(), rehearsal.BackupId)))
        {
            var resolved = incident with { State = IncidentState.Resolved, Summary = incident.Summary + $"; resolved: rehearsal {rehearsal.Id} restored it and passed every check" };
            await store.SaveIncidentAsync(resolved.With(now, "resolved", $"rehearsal {rehearsal.Id} passed"), cancellationToken);
        }
    }

    /// <summary>
    /// A scheduled drill passed after an earlier one failed: the instance is proven restorable again (from the
    /// backup the drill restored), so the drill's incident is resolved, saying which backup stays unproven.
    /// </summary>
    public async Task SupersededAsync(string incidentId, RehearsalRecord passed, CancellationToken cancellationToken)
    {
        if (await store.GetIncidentAsync(incidentId, cancellationToken) is not { State: IncidentState.Open } incident)
        {
            return;
        }

        var failedBackup = incident.Evidence.GetValueOrDefault("backup_id")?.ToString();
        var note = failedBackup == passed.BackupId
            ? $"the scheduled drill {passed.Id} restored backup {passed.BackupId} and passed every check"
            : $"the scheduled drill {passed.Id} restored the newer backup {passed.BackupId} and passed every check; backup {failedBackup} itself stays unproven";
        var resolved = incident with { State = IncidentState.Resolved, Summary = incident.Summary + "; resolved: " + note };
        await store.SaveIncidentAsync(resolved.With(time.GetUtcNow(), "resolved", note), cancellationToken);
    }
}

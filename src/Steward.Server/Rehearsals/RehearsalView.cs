using Steward.Rehearsals;
using Steward.Server.Backups;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>How rehearsals look in the API, the instance's details and the dashboard.</summary>
internal sealed class RehearsalView(IRehearsalStore rehearsals, IDrillScheduleStore drills, ProgressBoard progress)
{
    public static object Describe(RehearsalRecord r, BackupProgress? running = null, bool full = false) => new
    {
        id = r.Id,
        instance_id = r.InstanceId,
        state = r.State.ToString().ToLowerInvariant(),
        backup_id = r.BackupId,
        target = r.Target,
        step = r.Step,
        description = r.Step ?? r.Summary,
        summary = r.Summary,
        restore_seconds = r.RestoreSeconds,
        total_seconds = r.TotalSeconds,
        checks = r.Checks.Select(c => new
        {
            name = c.Name,
            result = c.Passed switch { true => "passed", false => "failed", null => "skipped" },
            evidence = c.Evidence,
            details = full ? c.Details : null,
        }),
        measurements = r.Measurements,
        port = r.Port,
        keep = r.Keep,
        kept_path = r.KeptPath,
        incident_id = r.IncidentId,
        requested_by = r.RequestedBy,
        check_file = full ? r.CheckFile : null,
        progress = running is null ? null : new
        {
            stage = running.Stage,
            plaintext_bytes = running.PlaintextBytes,
            stored_bytes = running.StoredBytes,
            bytes_per_second = Math.Round(running.BytesPerSecond),
            elapsed_seconds = Math.Round((running.At - running.StartedAt).TotalSeconds, 1),
        },
        started_at = r.StartedAt,
        finished_at = r.FinishedAt,
    };

    public object Describe(RehearsalRecord r, bool full) => Describe(r, progress.Get(r.Id), full);

    /// <summary>The instance's rehearsal summary: when it was last proven restorable (and by which backup), and the latest rehearsal.</summary>
    public async Task<object?> InstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        var all = await rehearsals.ListRehearsalsAsync(instanceId, cancellationToken);
        var schedule = await drills.GetDrillScheduleAsync(instanceId, cancellationToken);
        if (all.Count == 0 && schedule is null)
        {
            return null;
        }

        var proven = all.FirstOrDefault(r => r.State == RehearsalState.Passed);
        var latest = all.FirstOrDefault();
        return new
        {
            last_proven_restorable = proven?.FinishedAt,
            last_proven_backup_id = proven?.BackupId,
            last_proven_restore_seconds = proven?.RestoreSeconds,
            latest = latest is null ? null : new { id = latest.Id, state = latest.State.ToString().ToLowerInvariant(), backup_id = latest.BackupId, summary = latest.Summary, started_at = latest.StartedAt, finished_at = latest.FinishedAt },
            schedule = schedule is null ? null : DrillScheduleApi.Describe(schedule),
        };
    }
}

namespace Steward.Server.Operations;

/// <summary>What an update operation changes, and what it changes back on failure.</summary>
internal sealed record UpdatePayload(string PlanId, string ParametersJson, string PreviousPlanId, string PreviousParametersJson);

/// <summary>Which backup a restore operation restores.</summary>
internal sealed record RestorePayload(string BackupId);

/// <summary>
/// What a rebuild restores (a backup, or nothing when <paramref name="Empty"/> was asked for explicitly), the point in
/// time it replays archived WAL to (PostgreSQL with WAL archiving; null: the end of the backup), why, the incident
/// it is recorded in and the name its preserved files get: all chosen when it is requested, so a rebuild resumed
/// after a crash uses the same ones.
/// </summary>
internal sealed record RebuildPayload(string? BackupId, bool Empty, string? Reason, string IncidentId, string PreservedName, Backups.Wal.PointInTimePayload? PointInTime = null);

/// <summary>
/// A provision that clones: which instance's backup it restores (the source's admin password is read from its
/// record), and the point in the source's archived WAL it replays to (null: the backup as it is).
/// </summary>
internal sealed record ClonePayload(string SourceInstanceId, string BackupId, Backups.Wal.PointInTimePayload? PointInTime = null);

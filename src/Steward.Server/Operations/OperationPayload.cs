namespace Steward.Server.Operations;

/// <summary>What an update operation changes, and what it changes back on failure.</summary>
internal sealed record UpdatePayload(string PlanId, string ParametersJson, string PreviousPlanId, string PreviousParametersJson);

/// <summary>Which backup a restore operation restores.</summary>
internal sealed record RestorePayload(string BackupId);

/// <summary>
/// What a rebuild restores (a backup, or nothing when <paramref name="Empty"/> was asked for explicitly), why, the
/// incident it is recorded in and the name its preserved files get: all chosen when it is requested, so a rebuild
/// resumed after a crash uses the same ones.
/// </summary>
internal sealed record RebuildPayload(string? BackupId, bool Empty, string? Reason, string IncidentId, string PreservedName);

/// <summary>A provision that clones: which instance's backup it restores (the source's admin password is read from its record).</summary>
internal sealed record ClonePayload(string SourceInstanceId, string BackupId);

namespace Steward.Server.Operations;

/// <summary>What an update operation changes, and what it changes back on failure.</summary>
internal sealed record UpdatePayload(string PlanId, string ParametersJson, string PreviousPlanId, string PreviousParametersJson);

/// <summary>Which backup a restore operation restores.</summary>
internal sealed record RestorePayload(string BackupId);

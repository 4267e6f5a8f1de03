using Steward.Backups;

namespace Steward.Server.Backups.Retention;

/// <summary>What one retention pass of one instance kept and deleted.</summary>
/// <param name="InstanceId">The instance.</param>
/// <param name="Kept">Succeeded backups left, newest first (pinned ones included).</param>
/// <param name="Deleted">Backups deleted by this pass.</param>
/// <param name="OldestKeptBase">
/// The oldest physical (base) backup the policy keeps: the start of the recovery window. Pinned backups
/// outside the policy are standalone restore points and do not extend the window. Null when the instance
/// has no physical backup.
/// </param>
internal sealed record RetentionOutcome(string InstanceId, IReadOnlyList<BackupRecord> Kept, IReadOnlyList<BackupRecord> Deleted, BackupRecord? OldestKeptBase);

using Steward.Backups;

namespace Steward.Server.Backups.Retention;

/// <summary>A backup and why a retention pass keeps it (empty reasons: it is deleted).</summary>
internal sealed record RetentionDecision(BackupRecord Backup, IReadOnlyList<string> Reasons)
{
    public bool Keep => Reasons.Count > 0;

    /// <summary>Kept by the policy's rules, not only by a pin or a participant.</summary>
    public bool KeptByPolicy => Reasons.Any(r => r.StartsWith("last", StringComparison.Ordinal) || r.StartsWith("daily", StringComparison.Ordinal) || r.StartsWith("weekly", StringComparison.Ordinal) || r.StartsWith("monthly", StringComparison.Ordinal) || r == "newest");
}

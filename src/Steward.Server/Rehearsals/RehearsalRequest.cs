using Steward.Errors;
using Steward.Security;
using Steward.Server.Backups.Wal;
using Steward.Server.Http;

namespace Steward.Server.Rehearsals;

/// <summary>
/// What to rehearse: a backup (the newest succeeded one by default) or a point in time (PostgreSQL with WAL
/// archiving), the developer's own check, and whether to keep the sandbox afterwards.
/// </summary>
internal sealed record RehearsalRequest(string? BackupId, RecoveryTarget? Target, string? Check, bool Keep)
{
    /// <summary>The most a check file may hold.</summary>
    public const int MaxCheckBytes = 64 * 1024;

    private static readonly string[] Fields = ["backup_id", "to_time", "check", "keep"];

    public static readonly RehearsalRequest Latest = new(null, null, null, false);

    public static RehearsalRequest From(RequestBody body)
    {
        if (body.FieldNames.FirstOrDefault(f => !Fields.Contains(f)) is { } unknown)
        {
            throw StewardException.BadRequest($"unknown field '{unknown}'; a rehearsal takes {string.Join(", ", Fields)}");
        }

        var backup = body.OptionalString("backup_id");
        if (backup is not null && Identifiers.Problem(backup) is { } problem)
        {
            throw StewardException.BadRequest($"backup_id {problem}");
        }

        var time = body.OptionalString("to_time");
        if (backup is not null && time is not null)
        {
            throw StewardException.BadRequest("give backup_id or to_time, not both: a point-in-time rehearsal picks its base backup itself");
        }

        var check = body.OptionalString("check");
        if (check is not null && System.Text.Encoding.UTF8.GetByteCount(check) > MaxCheckBytes)
        {
            throw StewardException.BadRequest($"check is longer than {MaxCheckBytes / 1024} KiB");
        }

        return new RehearsalRequest(backup, time is null ? null : RecoveryTarget.From(time, null, null, false), check, body.OptionalBoolean("keep") ?? false);
    }
}

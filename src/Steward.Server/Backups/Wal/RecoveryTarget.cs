using System.Globalization;
using Steward.Errors;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>Where a point-in-time restore goes: a time, an LSN, a named restore point, or the latest archived state.</summary>
internal sealed record RecoveryTarget(RecoveryTargetKind Kind, DateTimeOffset? Time = null, string? Lsn = null, string? RestorePoint = null)
{
    /// <summary>Exactly one of the four, each well formed; 400 naming what is wrong otherwise.</summary>
    public static RecoveryTarget From(string? time, string? lsn, string? restorePoint, bool latest)
    {
        var given = new[] { time is not null, lsn is not null, restorePoint is not null, latest }.Count(x => x);
        if (given != 1)
        {
            throw StewardException.BadRequest("name exactly one target: to_time (RFC 3339, e.g. 2026-11-29T22:50:17Z), to_lsn (e.g. 0/3000028), to_restore_point (a name) or latest: true");
        }

        if (time is not null)
        {
            if (!DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var at) || !HasZone(time))
            {
                throw StewardException.BadRequest($"to_time '{time}' is not an RFC 3339 time with a zone (e.g. 2026-11-29T22:50:17.25Z or 2026-11-29T23:50:17+01:00)");
            }

            return new RecoveryTarget(RecoveryTargetKind.Time, Time: at);
        }

        if (lsn is not null)
        {
            return Steward.Wal.Lsn.TryParse(lsn, out _) ? new RecoveryTarget(RecoveryTargetKind.Lsn, Lsn: lsn) : throw StewardException.BadRequest($"to_lsn '{lsn}' is not an LSN like 0/3000028");
        }

        return restorePoint is not null ? new RecoveryTarget(RecoveryTargetKind.RestorePoint, RestorePoint: restorePoint) : new RecoveryTarget(RecoveryTargetKind.Latest);
    }

    public string Describe() => Kind switch
    {
        RecoveryTargetKind.Time => "time " + Time!.Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        RecoveryTargetKind.Lsn => "lsn " + Lsn,
        RecoveryTargetKind.RestorePoint => "restore point " + RestorePoint,
        _ => "latest",
    };

    private static bool HasZone(string time) =>
        time.EndsWith('Z') || time.EndsWith('z') || System.Text.RegularExpressions.Regex.IsMatch(time, @"[+-]\d\d:?\d\d$");
}

/// <summary>The kinds of recovery target.</summary>
internal enum RecoveryTargetKind
{
    Latest,
    Time,
    Lsn,
    RestorePoint,
}

/// <summary>
/// A planned point-in-time restore, as its operation records it (so a resumed operation does the same).
/// <paramref name="Point"/> is the time the restored data is of, where the plan knows it (a time target; the last
/// archived commit for "latest").
/// </summary>
internal sealed record PointInTimePayload(string BackupId, string Target, int Timeline, Dictionary<string, string> Settings, string Description, DateTimeOffset? Point = null)
{
    /// <summary>Marks the payload so a restore operation can tell it from a restore of a backup.</summary>
    public string Kind => "point-in-time";

    public static PointInTimePayload? TryRead(string? json)
    {
        if (json is null || !json.Contains("\"Kind\":\"point-in-time\"", StringComparison.Ordinal))
        {
            return null;
        }

        return System.Text.Json.JsonSerializer.Deserialize<PointInTimePayload>(json);
    }
}

using System.Text.Json;
using Steward.Errors;
using Steward.Security;
using Steward.Server.Backups.Wal;
using Steward.Server.Http;

namespace Steward.Server.Broker;

/// <summary>
/// What a developer asks a rebuild for: the latest recoverable point (the default), a given backup, a point in
/// time (PostgreSQL with WAL archiving: <c>to_time</c>, <c>to_lsn</c> or <c>to_restore_point</c>), or explicitly
/// nothing (an empty instance), and why. Read from the REST body or from the OSB update parameter <c>rebuild</c>.
/// </summary>
internal sealed record RebuildRequest(string? BackupId, bool Empty, string? Reason, RecoveryTarget? Target = null)
{
    private static readonly string[] Fields = ["backup_id", "latest", "to_time", "to_lsn", "to_restore_point", "empty", "reason"];

    /// <summary>The request with every field left out: the latest recoverable point.</summary>
    public static readonly RebuildRequest Latest = new(null, false, null);

    /// <summary>Reads a request object; <paramref name="where"/> names it in errors ("body", "parameters.rebuild").</summary>
    public static RebuildRequest From(RequestBody body, string where)
    {
        if (body.FieldNames.FirstOrDefault(f => !Fields.Contains(f)) is { } unknown)
        {
            throw StewardException.BadRequest($"{where}: unknown field '{unknown}'; a rebuild takes {string.Join(", ", Fields)}");
        }

        var backup = body.OptionalString("backup_id");
        if (backup is not null && Identifiers.Problem(backup) is { } problem)
        {
            throw StewardException.BadRequest($"{where}: backup_id {problem}");
        }

        var latest = body.OptionalBoolean("latest") ?? false;
        var empty = body.OptionalBoolean("empty") ?? false;
        var (time, lsn, point) = (body.OptionalString("to_time"), body.OptionalString("to_lsn"), body.OptionalString("to_restore_point"));
        var pointInTime = time is not null || lsn is not null || point is not null;
        if ((backup is not null ? 1 : 0) + (latest ? 1 : 0) + (empty ? 1 : 0) + (time is not null ? 1 : 0) + (lsn is not null ? 1 : 0) + (point is not null ? 1 : 0) > 1)
        {
            throw StewardException.BadRequest($"{where}: give at most one of backup_id, latest, to_time, to_lsn, to_restore_point and empty");
        }

        RecoveryTarget? target;
        try
        {
            target = pointInTime ? RecoveryTarget.From(time, lsn, point, latest: false) : null;
        }
        catch (StewardException ex)
        {
            throw StewardException.BadRequest($"{where}: {ex.Message}");
        }

        var reason = body.OptionalString("reason");
        if (reason is { Length: > 500 })
        {
            throw StewardException.BadRequest($"{where}: reason is longer than 500 characters");
        }

        return new RebuildRequest(backup, empty, reason, target);
    }

    /// <summary>The OSB update parameter <c>rebuild</c>: <c>true</c>, or an object as the REST body.</summary>
    public static RebuildRequest FromParameter(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => Latest,
        JsonValueKind.Object => From(RequestBody.Of(value), "parameters.rebuild"),
        _ => throw StewardException.BadRequest($"parameters.rebuild must be true or an object like {{\"backup_id\": \"…\"}}, not {value.GetRawText()}"),
    };
}

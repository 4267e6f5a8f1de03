using System.Text.Json;
using Steward.Errors;
using Steward.Security;
using Steward.Server.Http;

namespace Steward.Server.Broker;

/// <summary>
/// What a developer asks a rebuild for: a given backup, the latest (the default), or explicitly nothing (an empty
/// instance), and why. Read from the REST body or from the OSB update parameter <c>rebuild</c>.
/// </summary>
internal sealed record RebuildRequest(string? BackupId, bool Empty, string? Reason)
{
    private static readonly string[] Fields = ["backup_id", "latest", "empty", "reason"];

    /// <summary>The request with every field left out: the latest backup.</summary>
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
        if ((backup is not null ? 1 : 0) + (latest ? 1 : 0) + (empty ? 1 : 0) > 1)
        {
            throw StewardException.BadRequest($"{where}: give at most one of backup_id, latest and empty");
        }

        var reason = body.OptionalString("reason");
        if (reason is { Length: > 500 })
        {
            throw StewardException.BadRequest($"{where}: reason is longer than 500 characters");
        }

        return new RebuildRequest(backup, empty, reason);
    }

    /// <summary>The OSB update parameter <c>rebuild</c>: <c>true</c>, or an object as the REST body.</summary>
    public static RebuildRequest FromParameter(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => Latest,
        JsonValueKind.Object => From(RequestBody.Of(value), "parameters.rebuild"),
        _ => throw StewardException.BadRequest($"parameters.rebuild must be true or an object like {{\"backup_id\": \"…\"}}, not {value.GetRawText()}"),
    };
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Steward.Errors;
using Steward.Security;
using Steward.Server.Backups.Wal;
using Steward.Server.Http;

namespace Steward.Server.Broker;

/// <summary>
/// The provision parameter <c>clone_from</c>: <c>{"instance_id": "…", "backup_id": "…", "token": "…"}</c>. The
/// instance is created from that instance's backup (its latest succeeded one by default), or — for PostgreSQL with
/// WAL archiving — at a point in time of the source (<c>to_time</c>, <c>to_lsn</c>, <c>to_restore_point</c>, or
/// <c>latest</c>: its latest archived state). <c>token</c> — the source instance's API token — authorizes a clone
/// across organizations or spaces; it is never stored.
/// </summary>
internal sealed record CloneRequest(string InstanceId, string? BackupId, string? Token, RecoveryTarget? Target = null)
{
    private static readonly string[] Fields = ["instance_id", "backup_id", "to_time", "to_lsn", "to_restore_point", "latest", "token"];

    /// <summary>Splits <c>clone_from</c> off the provision parameters; returns it (or null) and the other parameters.</summary>
    public static (CloneRequest? Clone, string? Parameters) Extract(string? parameters)
    {
        if (parameters is null || JsonNode.Parse(parameters) is not JsonObject all || !all.ContainsKey("clone_from"))
        {
            return (null, parameters);
        }

        var value = all["clone_from"];
        all.Remove("clone_from");
        var rest = all.Count == 0 ? null : all.ToJsonString();
        if (value is not JsonObject)
        {
            throw StewardException.BadRequest("parameters.clone_from must be an object like {\"instance_id\": \"…\", \"backup_id\": \"…\"}");
        }

        var body = RequestBody.Of(JsonSerializer.Deserialize<JsonElement>(value.ToJsonString()));
        if (body.FieldNames.FirstOrDefault(f => !Fields.Contains(f)) is { } unknown)
        {
            throw StewardException.BadRequest($"parameters.clone_from: unknown field '{unknown}'; it takes {string.Join(", ", Fields)}");
        }

        var instance = body.OptionalString("instance_id") ?? throw StewardException.BadRequest("parameters.clone_from.instance_id is required");
        var backup = body.OptionalString("backup_id");
        foreach (var (name, id) in new[] { ("instance_id", instance), ("backup_id", backup) })
        {
            if (id is not null && Identifiers.Problem(id) is { } problem)
            {
                throw StewardException.BadRequest($"parameters.clone_from.{name} {problem}");
            }
        }

        var (time, lsn, point, latest) = (body.OptionalString("to_time"), body.OptionalString("to_lsn"), body.OptionalString("to_restore_point"), body.OptionalBoolean("latest") ?? false);
        var targets = (time is null ? 0 : 1) + (lsn is null ? 0 : 1) + (point is null ? 0 : 1) + (latest ? 1 : 0);
        if (targets + (backup is null ? 0 : 1) > 1)
        {
            throw StewardException.BadRequest("parameters.clone_from: give at most one of backup_id, to_time, to_lsn, to_restore_point and latest");
        }

        RecoveryTarget? target;
        try
        {
            target = targets == 0 ? null : RecoveryTarget.From(time, lsn, point, latest);
        }
        catch (StewardException ex)
        {
            throw StewardException.BadRequest($"parameters.clone_from: {ex.Message}");
        }

        return (new CloneRequest(instance, backup, body.OptionalString("token"), target), rest);
    }

    /// <summary>Never shows the token.</summary>
    public override string ToString() => $"CloneRequest {{ InstanceId = {InstanceId}, BackupId = {BackupId ?? "latest"}, Target = {Target?.Describe() ?? "none"}, Token = {(Token is null ? "none" : "set")} }}";
}

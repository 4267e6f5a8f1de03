using System.Net;
using System.Text.Json;

namespace Steward.Cli;

/// <summary><c>steward rebuild</c>: recreate a broken instance from scratch with a backup, same id, port and credentials.</summary>
internal static class RebuildCommands
{
    /// <summary>What to rebuild from, as given on the command line; the broker checks that at most one is given.</summary>
    public sealed record Source(string? Backup, bool Latest, bool Empty, string? ToTime, string? ToLsn, string? ToRestorePoint);

    public static async Task<int> RebuildAsync(StewardClient client, string instance, Source source, string? reason, bool wait, CancellationToken ct)
    {
        var body = new Dictionary<string, object>();
        foreach (var (key, value) in new (string, string?)[] { ("backup_id", source.Backup), ("to_time", source.ToTime), ("to_lsn", source.ToLsn), ("to_restore_point", source.ToRestorePoint) })
        {
            if (value is not null)
            {
                body[key] = value;
            }
        }

        if (source.Latest)
        {
            body["latest"] = true;
        }

        if (source.Empty)
        {
            body["empty"] = true;
        }

        if (reason is not null)
        {
            body["reason"] = reason;
        }

        var (_, started) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/rebuild", body, ct, HttpStatusCode.Accepted);
        var operation = started.GetProperty("operation").GetString()!;
        Console.WriteLine(operation);
        var from = started.TryGetProperty("backup_id", out var b) && b.ValueKind == JsonValueKind.String ? $"backup {b.GetString()}" : "nothing (empty)";
        if (started.TryGetProperty("target", out var t) && t.ValueKind == JsonValueKind.String)
        {
            from += $" with its archived WAL replayed to {t.GetString()}";
        }

        Console.Error.WriteLine($"rebuilding {instance} from {from}; recorded in incident {started.GetProperty("incident_id").GetString()}");
        if (!wait)
        {
            return ExitCodes.Success;
        }

        var done = await BackupCommands.FollowAsync(
            client,
            instance,
            $"rebuilding {instance}",
            async () => (await client.ExpectAsync(HttpMethod.Get, $"/api/v1/operations/{Uri.EscapeDataString(operation)}", null, ct, HttpStatusCode.OK)).Body,
            o => o.GetProperty("state").GetString() != "in progress",
            ct);
        var ok = done.GetProperty("state").GetString() == "succeeded";
        Console.Error.WriteLine($"rebuild of {instance}: {(ok ? "done" : "FAILED")}: {(done.TryGetProperty("description", out var d) ? d.GetString() : "-")}");
        return ok ? ExitCodes.Success : ExitCodes.Failed;
    }
}

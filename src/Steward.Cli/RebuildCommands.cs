using System.Net;
using System.Text.Json;

namespace Steward.Cli;

/// <summary><c>steward rebuild</c>: recreate a broken instance from scratch with a backup, same id, port and credentials.</summary>
internal static class RebuildCommands
{
    public static async Task<int> RebuildAsync(StewardClient client, string instance, string? backup, bool latest, bool empty, string? reason, bool wait, CancellationToken ct)
    {
        var body = new Dictionary<string, object>();
        if (backup is not null)
        {
            body["backup_id"] = backup;
        }

        if (latest)
        {
            body["latest"] = true;
        }

        if (empty)
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

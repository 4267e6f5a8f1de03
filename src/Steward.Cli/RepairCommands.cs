using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Steward.Cli;

/// <summary><c>steward repair</c>: replace only the damaged pages of a live PostgreSQL instance with a verified copy's.</summary>
internal static class RepairCommands
{
    public static async Task<int> RepairAsync(StewardClient client, string instance, bool dryRun, bool json, bool wait, CancellationToken ct)
    {
        Console.Error.WriteLine($"planning the repair of {instance}: finding every damaged page and checking the WAL chain…");
        var path = $"/api/v1/instances/{Uri.EscapeDataString(instance)}/repair";
        var (_, plan) = await client.ExpectAsync(HttpMethod.Post, path, new Dictionary<string, object> { ["dry_run"] = dryRun }, ct, dryRun ? HttpStatusCode.OK : HttpStatusCode.Accepted);
        if (json && (dryRun || !wait))
        {
            Console.WriteLine(Parameters.Pretty(plan));
        }
        else if (!json)
        {
            Print(plan);
        }

        if (dryRun)
        {
            return ExitCodes.Success;
        }

        var operation = plan.GetProperty("operation").GetString()!;
        Console.WriteLine(operation);
        Console.Error.WriteLine($"repairing {instance}; recorded in incident {plan.GetProperty("incident_id").GetString()} (steward incidents show {plan.GetProperty("incident_id").GetString()})");
        if (!wait)
        {
            return ExitCodes.Success;
        }

        var done = await BackupCommands.FollowAsync(
            client,
            instance,
            $"repairing {instance}",
            async () => (await client.ExpectAsync(HttpMethod.Get, $"/api/v1/operations/{Uri.EscapeDataString(operation)}", null, ct, HttpStatusCode.OK)).Body,
            o => o.GetProperty("state").GetString() != "in progress",
            ct);
        var ok = done.GetProperty("state").GetString() == "succeeded";
        Console.Error.WriteLine($"repair of {instance}: {(ok ? "done" : "FAILED")}: {(done.TryGetProperty("description", out var d) ? d.GetString() : "-")}");
        return ok ? ExitCodes.Success : ExitCodes.Failed;
    }

    private static void Print(JsonElement plan)
    {
        var dry = plan.GetProperty("dry_run").GetBoolean();
        Console.WriteLine($"{(dry ? "would replace" : "replacing")} {plan.GetProperty("pages").GetInt32()} page(s){(plan.GetProperty("whole_files").GetInt32() > 0 ? $" and {plan.GetProperty("whole_files").GetInt32()} whole file(s)" : string.Empty)}: {plan.GetProperty("bytes").GetInt64().ToString(CultureInfo.InvariantCulture)} bytes");
        foreach (var item in plan.GetProperty("replace").EnumerateArray())
        {
            var relation = item.GetProperty("relation").ValueKind == JsonValueKind.String ? item.GetProperty("relation").GetString() : "?";
            var what = item.GetProperty("whole_file").GetBoolean() ? "whole file" : "blocks " + string.Join(", ", item.GetProperty("blocks").EnumerateArray().Select(b => b.GetInt64()));
            Console.WriteLine($"  {relation} in {item.GetProperty("database").GetString()}: {item.GetProperty("file").GetString()} {what} ({item.GetProperty("bytes").GetInt64()} bytes)");
        }

        var wal = plan.GetProperty("wal");
        Console.WriteLine($"copy from:  backup {plan.GetProperty("backup_id").GetString()} + archived WAL {wal.GetProperty("from_lsn").GetString()} → {wal.GetProperty("to_lsn").GetString()} ({wal.GetProperty("archived_segments").GetInt32()} archived, {wal.GetProperty("unarchived_segments").GetInt32()} still in pg_wal) + the live server's last WAL at its shutdown");
        Console.WriteLine($"found by:   {plan.GetProperty("found_by").GetString()}");
    }
}

using System.Net;
using System.Text.Json;

namespace Steward.Cli;

/// <summary>Handlers of <c>steward backup window</c>, <c>steward backup wal</c>, <c>steward restore-point</c> and point-in-time <c>steward backup restore</c>.</summary>
internal static class WalCommands
{
    public static async Task<int> WindowAsync(StewardClient client, string instance, bool json, CancellationToken ct)
    {
        var (_, w) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/recovery-window", null, ct, HttpStatusCode.OK);
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(w));
            return ExitCodes.Success;
        }

        if (!w.GetProperty("point_in_time").GetBoolean())
        {
            Console.WriteLine($"{instance}: {Str(w, "service")} has no write-ahead log; recovery point: {Str(w, "recovery_point") ?? "none (no backup yet)"} {Str(w, "recovery_point_backup_id")}");
            return ExitCodes.Success;
        }

        Console.WriteLine($"earliest recoverable time  {Str(w, "earliest_recoverable_time") ?? "- (no base backup with a complete WAL chain)"}");
        Console.WriteLine($"latest recoverable time    {Str(w, "latest_recoverable_time") ?? "-"}");
        Console.WriteLine($"latest recoverable LSN     {Str(w, "latest_recoverable_lsn") ?? "-"}");
        Console.WriteLine($"timeline                   {(w.TryGetProperty("timeline", out var t) ? t.ToString() : "-")}");
        var timelines = new Listing(Listing.Wraps("timeline"), Listing.Whole("started"), Listing.Whole("earliest"), Listing.Whole("latest"), Listing.Whole("latest LSN"));
        foreach (var tl in w.GetProperty("timelines").EnumerateArray())
        {
            timelines.Add(tl.GetProperty("timeline").ToString() + (tl.GetProperty("current").GetBoolean() ? " (current)" : string.Empty), Str(tl, "started_at"), Str(tl, "earliest_recoverable_time"), Str(tl, "latest_recoverable_time"), Str(tl, "latest_recoverable_lsn"));
        }

        timelines.Write();
        var points = w.GetProperty("restore_points");
        if (points.GetArrayLength() > 0)
        {
            var table = new Listing(Listing.Whole("restore point"), Listing.Whole("LSN"), Listing.Wraps("timeline"), Listing.Whole("created"));
            foreach (var p in points.EnumerateArray())
            {
                table.Add(Str(p, "name"), Str(p, "lsn"), p.GetProperty("timeline").ToString(), Str(p, "created_at"));
            }

            table.Write();
        }

        return ExitCodes.Success;
    }

    public static async Task<int> ArchiveStatusAsync(StewardClient client, string instance, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/wal", null, ct, HttpStatusCode.OK);
        Console.WriteLine(Parameters.Pretty(body));
        return ExitCodes.Success;
    }

    public static async Task<int> CreatePointAsync(StewardClient client, string instance, string name, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/restore-points", new { name }, ct, HttpStatusCode.Created);
        Console.WriteLine($"{Str(body, "name")} {Str(body, "lsn")} timeline {body.GetProperty("timeline")} {Str(body, "created_at")}");
        return ExitCodes.Success;
    }

    public static async Task<int> ListPointsAsync(StewardClient client, string instance, bool json, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/restore-points", null, ct, HttpStatusCode.OK);
        var points = body.GetProperty("restore_points");
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(points));
            return ExitCodes.Success;
        }

        foreach (var p in points.EnumerateArray())
        {
            Console.WriteLine($"{Str(p, "name")}\t{Str(p, "lsn")}\ttimeline {p.GetProperty("timeline")}\t{Str(p, "created_at")}");
        }

        return ExitCodes.Success;
    }

    public static async Task<int> RestoreAsync(StewardClient client, string instance, string? time, string? lsn, string? point, bool latest, bool wait, CancellationToken ct)
    {
        var target = new Dictionary<string, object?>();
        if (time is not null)
        {
            target["to_time"] = time;
        }

        if (lsn is not null)
        {
            target["to_lsn"] = lsn;
        }

        if (point is not null)
        {
            target["to_restore_point"] = point;
        }

        if (latest)
        {
            target["latest"] = true;
        }

        var (_, body) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/point-in-time-restore", target, ct, HttpStatusCode.Accepted);
        var operation = body.GetProperty("operation").GetString()!;
        Console.WriteLine(operation);
        if (!wait)
        {
            return ExitCodes.Success;
        }

        var done = await BackupCommands.FollowAsync(
            client,
            instance,
            $"restoring {instance}",
            async () => (await client.ExpectAsync(HttpMethod.Get, $"/api/v1/operations/{Uri.EscapeDataString(operation)}", null, ct, HttpStatusCode.OK)).Body,
            o => o.GetProperty("state").GetString() != "in progress",
            ct);
        var ok = done.GetProperty("state").GetString() == "succeeded";
        Console.Error.WriteLine($"point-in-time restore of {instance}: {(ok ? "done" : "FAILED")}: {Str(done, "description")}");
        return ok ? ExitCodes.Success : ExitCodes.Failed;
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

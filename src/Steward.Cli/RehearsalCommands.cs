using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Steward.Cli;

/// <summary><c>steward rehearse</c> and <c>steward rehearsals list|show</c>: prove a backup restorable on an isolated copy.</summary>
internal static class RehearsalCommands
{
    public static async Task<int> RehearseAsync(StewardClient client, string instance, string? backup, string? toTime, string? checkFile, bool keep, bool wait, bool json, CancellationToken ct)
    {
        if (backup is not null && toTime is not null)
        {
            throw new CliException(ExitCodes.Usage, "give --backup or --to-time, not both");
        }

        var body = new Dictionary<string, object>();
        if (backup is not null)
        {
            body["backup_id"] = backup;
        }

        if (toTime is not null)
        {
            body["to_time"] = toTime;
        }

        if (checkFile is not null)
        {
            try
            {
                body["check"] = await File.ReadAllTextAsync(checkFile, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.Usage, $"--check {checkFile}: {ex.Message}");
            }
        }

        if (keep)
        {
            body["keep"] = true;
        }

        var (_, started) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/rehearsals", body, ct, HttpStatusCode.Accepted);
        var id = started.GetProperty("id").GetString()!;
        Console.WriteLine(id);
        Console.Error.WriteLine($"rehearsing the restore of {instance} to {started.GetProperty("target").GetString()} in an isolated sandbox; the live instance is not touched");
        if (!wait)
        {
            return ExitCodes.Success;
        }

        var done = await BackupCommands.FollowAsync(
            client,
            instance,
            $"rehearsing {instance}",
            async () => (await client.ExpectAsync(HttpMethod.Get, $"/api/v1/rehearsals/{Uri.EscapeDataString(id)}", null, ct, HttpStatusCode.OK)).Body,
            r => r.GetProperty("state").GetString() != "running",
            ct);
        Print(done, json);
        return done.GetProperty("state").GetString() == "passed" ? ExitCodes.Success : ExitCodes.Failed;
    }

    public static async Task<int> ListAsync(StewardClient client, string instance, bool json, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/rehearsals", null, ct, HttpStatusCode.OK);
        var list = body.GetProperty("rehearsals");
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(list));
            return ExitCodes.Success;
        }

        var table = new Listing(Listing.Whole("id"), Listing.Wraps("state"), Listing.Whole("backup"), Listing.Wraps("restore s"), Listing.Whole("started"), Listing.Wraps("summary"));
        foreach (var r in list.EnumerateArray())
        {
            table.Add(
                r.GetProperty("id").GetString(),
                r.GetProperty("state").GetString(),
                r.GetProperty("backup_id").GetString(),
                Seconds(r, "restore_seconds"),
                r.GetProperty("started_at").GetString(),
                Str(r, "summary") ?? Str(r, "step"));
        }

        table.Write();
        return ExitCodes.Success;
    }

    public static async Task<int> ShowAsync(StewardClient client, string id, bool json, CancellationToken ct)
    {
        var (_, r) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/rehearsals/{Uri.EscapeDataString(id)}", null, ct, HttpStatusCode.OK);
        Print(r, json);
        return ExitCodes.Success;
    }

    public static async Task<int> VerifyAsync(StewardClient client, string instance, bool json, CancellationToken ct)
    {
        Console.Error.WriteLine($"verifying {instance}: pg_amcheck --heapallindexed over every relation at low priority, checksum failures, the server log…");
        var (_, v) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/verify", new Dictionary<string, object>(), ct, HttpStatusCode.OK);
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(v));
        }
        else if (v.GetProperty("clean").GetBoolean())
        {
            Console.WriteLine($"{instance}: clean ({v.GetProperty("relations_checked").GetInt64()} relations checked in {v.GetProperty("seconds").GetDouble().ToString("0.0", CultureInfo.InvariantCulture)} s)");
        }
        else
        {
            Console.WriteLine($"{instance}: DAMAGED (incident {Str(v, "incident_id")})");
            foreach (var d in v.GetProperty("damaged").EnumerateArray())
            {
                Console.WriteLine($"  {Str(d, "relation") ?? "?"} in {Str(d, "database")}: file {Str(d, "file")}, blocks {string.Join(", ", d.GetProperty("blocks").EnumerateArray().Select(b => b.GetInt64()))}");
            }

            foreach (var e in v.GetProperty("evidence").EnumerateArray())
            {
                Console.WriteLine($"  {e.GetString()}");
            }
        }

        return v.GetProperty("clean").GetBoolean() ? ExitCodes.Success : ExitCodes.Failed;
    }

    private static void Print(JsonElement r, bool json)
    {
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(r));
            return;
        }

        Console.WriteLine($"rehearsal {r.GetProperty("id").GetString()} of instance {r.GetProperty("instance_id").GetString()}: {r.GetProperty("state").GetString()}");
        Console.WriteLine($"backup:       {r.GetProperty("backup_id").GetString()}");
        Console.WriteLine($"restored to:  {r.GetProperty("target").GetString()}");
        Console.WriteLine($"restore time: {Seconds(r, "restore_seconds")} s (whole rehearsal {Seconds(r, "total_seconds")} s)");
        if (Str(r, "summary") is { } summary)
        {
            Console.WriteLine($"summary:      {summary}");
        }

        if (Str(r, "incident_id") is { } incident)
        {
            Console.WriteLine($"incident:     {incident}");
        }

        if (Str(r, "kept_path") is { } kept)
        {
            Console.WriteLine($"sandbox kept: {kept}");
        }

        Console.WriteLine("checks:");
        foreach (var c in r.GetProperty("checks").EnumerateArray())
        {
            Console.WriteLine($"  {c.GetProperty("result").GetString(),-8} {c.GetProperty("name").GetString(),-16} {c.GetProperty("evidence").GetString()}");
        }

        if (r.TryGetProperty("measurements", out var m) && m.ValueKind == JsonValueKind.Object)
        {
            Console.WriteLine("measurements:");
            foreach (var p in m.EnumerateObject())
            {
                Console.WriteLine($"  {p.Name}: {p.Value}");
            }
        }
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Seconds(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("0.0", CultureInfo.InvariantCulture) : "-";
}

using System.Net;
using System.Text.Json;
using Spectre.Console;

namespace Steward.Cli;

/// <summary>Handlers of <c>steward incidents list|show</c> and <c>steward health</c>.</summary>
internal static class IncidentCommands
{
    public static async Task<int> ListAsync(StewardClient client, string? instance, bool json, CancellationToken ct)
    {
        var path = "/api/v1/incidents" + (instance is null ? string.Empty : "?instance=" + Uri.EscapeDataString(instance));
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, path, null, ct, HttpStatusCode.OK);
        var incidents = body.GetProperty("incidents");
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(incidents));
            return ExitCodes.Success;
        }

        var table = new Listing(Listing.Whole("id"), Listing.Whole("instance"), Listing.Wraps("class"), Listing.Wraps("state"), Listing.Wraps("restarts"), Listing.Whole("opened"), Listing.Wraps("summary"));
        foreach (var i in incidents.EnumerateArray())
        {
            table.Add(
                i.GetProperty("id").GetString(),
                i.GetProperty("instance_id").GetString(),
                i.GetProperty("class").GetString(),
                i.GetProperty("state").GetString(),
                i.GetProperty("restarts").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
                i.GetProperty("opened_at").GetString(),
                i.GetProperty("summary").GetString());
        }

        table.Write();
        return ExitCodes.Success;
    }

    public static async Task<int> ShowAsync(StewardClient client, string id, bool json, CancellationToken ct)
    {
        var (_, i) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/incidents/{Uri.EscapeDataString(id)}", null, ct, HttpStatusCode.OK);
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(i));
            return ExitCodes.Success;
        }

        Console.WriteLine($"incident {i.GetProperty("id").GetString()} on instance {i.GetProperty("instance_id").GetString()}");
        Console.WriteLine($"class:    {i.GetProperty("class").GetString()}");
        Console.WriteLine($"state:    {i.GetProperty("state").GetString()} ({i.GetProperty("restarts").GetInt32()} restarts)");
        Console.WriteLine($"summary:  {i.GetProperty("summary").GetString()}");
        if (i.TryGetProperty("preserved_path", out var preserved) && preserved.ValueKind == JsonValueKind.String)
        {
            Console.WriteLine($"files:    {preserved.GetString()}");
        }

        Console.WriteLine("timeline:");
        foreach (var e in i.GetProperty("timeline").EnumerateArray())
        {
            Console.WriteLine($"  {e.GetProperty("at").GetString()}  {e.GetProperty("kind").GetString(),-18} {e.GetProperty("detail").GetString()}");
        }

        Console.WriteLine("evidence:");
        foreach (var p in i.GetProperty("evidence").EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Array)
            {
                Console.WriteLine($"  {p.Name}:");
                foreach (var line in p.Value.EnumerateArray())
                {
                    Console.WriteLine($"    {line}");
                }
            }
            else if (p.Value.ValueKind != JsonValueKind.Null)
            {
                Console.WriteLine($"  {p.Name}: {p.Value}");
            }
        }

        return ExitCodes.Success;
    }

    public static async Task<int> HealthAsync(StewardClient client, bool json, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, "/api/v1/health", null, ct, HttpStatusCode.OK);
        var instances = body.GetProperty("instances");
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(instances));
            return ExitCodes.Success;
        }

        var table = new Listing(Listing.Whole("instance"), Listing.Wraps("state"), Listing.Wraps("health"), Listing.Whole("last check"), Listing.Wraps("detail"));
        var allHealthy = true;
        foreach (var i in instances.EnumerateArray())
        {
            var h = i.GetProperty("health");
            var status = h.GetProperty("status").GetString()!;
            allHealthy &= status == "healthy";
            table.Add(
                i.GetProperty("id").GetString(),
                i.GetProperty("state").GetString(),
                status,
                h.TryGetProperty("last_check", out var lc) && lc.ValueKind == JsonValueKind.String ? lc.GetString() : "-",
                h.GetProperty("detail").GetString());
        }

        table.Write();
        return allHealthy ? ExitCodes.Success : ExitCodes.Failed;
    }
}

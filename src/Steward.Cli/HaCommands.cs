using System.Net;
using System.Text.Json;

namespace Steward.Cli;

/// <summary>steward members and steward switchover: the members of a highly available instance.</summary>
internal static class HaCommands
{
    public static async Task<int> MembersAsync(StewardClient client, string id, bool json, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/instances/{Uri.EscapeDataString(id)}/members", null, ct, HttpStatusCode.OK);
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(body));
            return ExitCodes.Success;
        }

        WriteMembers(body.GetProperty("members"));
        return ExitCodes.Success;
    }

    /// <summary>The members table (also printed by steward show for highly available instances).</summary>
    public static void WriteMembers(JsonElement members)
    {
        var table = new Listing(Listing.Whole("member"), Listing.Wraps("role"), Listing.Wraps("state"), Listing.Whole("port"), Listing.Wraps("timeline"), Listing.Whole("lsn"), Listing.Wraps("lag"), Listing.Wraps("detail"));
        foreach (var m in members.EnumerateArray())
        {
            string S(string name) => m.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "-";
            table.Add(S("name"), S("role"), S("state"), S("port"), S("timeline"), S("lsn"), S("lag_bytes") == "-" ? "-" : S("lag_bytes") + " B", S("detail"));
        }

        table.Write();
    }

    public static async Task<int> SwitchoverAsync(StewardClient client, string id, string? to, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(id)}/switchover", to is null ? new { } : new { to }, ct, HttpStatusCode.OK);
        Console.WriteLine($"switched over from {body.GetProperty("from").GetString()} to {body.GetProperty("to").GetString()} " +
            $"at {body.GetProperty("at_lsn").GetString()}, timeline {body.GetProperty("timeline").GetInt64()}; writes paused {body.GetProperty("paused_seconds").GetDouble():0.###} s");
        return ExitCodes.Success;
    }
}

using System.Globalization;
using System.Net;

namespace Steward.Cli;

/// <summary>Handler of <c>steward dashboard</c>.</summary>
internal static class DashboardCommands
{
    /// <summary>Prints the login link alone on stdout (for copying or scripts) and what it is on stderr.</summary>
    public static async Task<int> LinkAsync(StewardClient client, string instance, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/dashboard-links", new { }, ct, HttpStatusCode.Created);
        Console.WriteLine(body.GetProperty("url").GetString());
        var expires = body.GetProperty("expires_at").GetDateTimeOffset();
        Console.Error.WriteLine($"Open this link in a browser to see {instance}'s dashboard; it works once, until {expires.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} UTC.");
        return ExitCodes.Success;
    }
}

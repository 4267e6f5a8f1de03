using System.Net;
using System.Net.Sockets;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

/// <summary>A port taken by another process between its allocation and the server's start does not fail the provision.</summary>
public sealed class PortRaceTests
{
    [Fact]
    public async Task A_port_bound_by_another_process_after_allocation_moves_the_new_instance_to_a_free_port()
    {
        await using var server = await StewardServer.StartAsync();
        var osb = server.Client;
        var id = "race-" + Guid.NewGuid().ToString("N")[..8];
        (await osb.ProvisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).Status.ShouldBe(HttpStatusCode.Accepted);

        // initdb takes a second or more: the port is recorded at once and bound here long before the server starts.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int? allocated = null;
        while (allocated is null)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the instance gets its port");
            var reply = await osb.ApiAsync($"/instances/{id}");
            if (reply.Status == HttpStatusCode.OK && reply.Body.TryGetProperty("port", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.Number)
            {
                allocated = p.GetInt32();
            }
            else
            {
                await Task.Delay(5);
            }
        }

        using var squatter = new TcpListener(IPAddress.Loopback, allocated.Value);
        squatter.Start();
        var done = await osb.WaitAsync(id, timeoutSeconds: 180);
        done.Str("state").ShouldBe("succeeded", done + "\n" + server.Log[^Math.Min(server.Log.Length, 3000)..]);

        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var port = credentials.GetProperty("port").GetInt32();
        port.ShouldNotBe(allocated.Value, "the instance moved off the port another process holds");
        (await Sql.ScalarAsync(credentials.GetProperty("uri").GetString()!, "SELECT current_setting('port')")).ShouldBe(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        server.Log.ShouldContain($"port {allocated} was taken by another process before the server could bind it");
        await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }
}

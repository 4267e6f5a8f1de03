using System.Diagnostics;
using Npgsql;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>The read-only endpoint: a second HAProxy frontend over the streaming standbys, following failovers.</summary>
[Collection("ha")]
public sealed class ReadOnlyEndpointTests(HaBrokerFixture broker)
{
    [Fact]
    public async Task The_read_only_endpoint_reaches_a_standby_refuses_writes_and_follows_a_failover()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        var roUri = ha.Credentials.GetProperty("ro_uri").GetString()!;
        var roPort = ha.Credentials.GetProperty("ro_port").GetInt32();
        ha.Credentials.GetProperty("ro_host").GetString().ShouldBe("127.0.0.1");
        roUri.ShouldContain($"@127.0.0.1:{roPort}/");
        roPort.ShouldNotBe(new Uri(ha.Uri).Port);
        await using (var conn = new NpgsqlConnection(WriteLoad.ToConnectionString(ha.Uri)))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE TABLE seen (v int); INSERT INTO seen VALUES (1)", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        var before = await ha.MembersAsync();
        var reached = await ReadAsync(roUri, before.Where(m => m.Role == "standby").Select(m => m.Port).ToHashSet());
        reached.Rows.ShouldBe(1, "a synchronous standby has the committed row");

        // Read only: a write through it is refused by the standby.
        await using (var conn = new NpgsqlConnection(Pooled(roUri)))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("INSERT INTO seen VALUES (2)", conn);
            var refused = await Should.ThrowAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
            refused.SqlState.ShouldBe("25006");
        }

        // A failover: the read-only endpoint leads to the standbys of the new primary (never to it).
        var old = before.Single(m => m.Role == "primary");
        Processes.Kill(old.Pid!.Value, 9);
        var after = await ha.WaitAsync("a new primary and two standbys streaming", m =>
            m.Any(x => x.Role == "primary" && x.Name != old.Name) && m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, 120);
        var standbyPorts = after.Where(m => m.Role == "standby").Select(m => m.Port).ToHashSet();
        for (var i = 0; i < 4; i++)
        {
            (await ReadAsync(roUri, standbyPorts)).InRecovery.ShouldBeTrue();
        }

        await ha.DeleteAsync();
    }

    /// <summary>Connects through the read-only endpoint until it reaches one of <paramref name="ports"/> in recovery.</summary>
    private static async Task<(bool InRecovery, int Port, long Rows)> ReadAsync(string uri, IReadOnlySet<int> ports)
    {
        var clock = Stopwatch.StartNew();
        string last = "never connected";
        while (true)
        {
            try
            {
                await using var conn = new NpgsqlConnection(Pooled(uri));
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery(), inet_server_port(), (SELECT count(*) FROM seen)", conn);
                await using var r = await cmd.ExecuteReaderAsync();
                await r.ReadAsync();
                var result = (r.GetBoolean(0), r.GetInt32(1), r.GetInt64(2));
                if (result.Item1 && ports.Contains(result.Item2))
                {
                    return result;
                }

                result.Item1.ShouldBeTrue($"the read-only endpoint reached a primary (port {result.Item2})");
                last = $"reached port {result.Item2}, not one of {string.Join(",", ports)}";
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.IO.IOException)
            {
                last = ex.Message;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"the read-only endpoint did not reach a standby: {last}");
            await Task.Delay(200);
        }
    }

    private static string Pooled(string uri) => new NpgsqlConnectionStringBuilder(WriteLoad.ToConnectionString(uri)) { Pooling = false, Timeout = 5 }.ConnectionString;
}

using System.Diagnostics;
using Npgsql;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>
/// A client that opens a fresh connection through the endpoint, again and again, until one reaches a primary that
/// takes a write: what an application does after its connection broke. Each attempt is timed; its own timeouts are
/// long (10 s), so an attempt the endpoint holds up shows as a long attempt rather than being cut by the client.
/// </summary>
public static class ConnectProbe
{
    public static async Task<IReadOnlyList<Attempt>> UntilPrimaryAsync(string uri, TimeSpan within)
    {
        var csb = new NpgsqlConnectionStringBuilder(WriteLoad.ToConnectionString(uri)) { Pooling = false, Timeout = 10, CommandTimeout = 10 };
        var attempts = new List<Attempt>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed < within)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await using var conn = new NpgsqlConnection(csb.ConnectionString);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("SELECT NOT pg_is_in_recovery(), inet_server_port()", conn);
                await using (var reader = await cmd.ExecuteReaderAsync())
                {
                    await reader.ReadAsync();
                    if (!reader.GetBoolean(0))
                    {
                        throw new InvalidOperationException($"the endpoint led to a standby (port {reader.GetInt32(1)})");
                    }
                }

                await using var write = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS probe (at timestamptz); INSERT INTO probe VALUES (now())", conn);
                await write.ExecuteNonQueryAsync();
                attempts.Add(new Attempt(clock.Elapsed, null));
                return attempts;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException)
            {
                attempts.Add(new Attempt(clock.Elapsed, ex.GetType().Name + ": " + ex.Message.Split('\n')[0]));
                await Task.Delay(20);
            }
        }

        throw new TimeoutException($"no connection through the endpoint reached a primary within {within.TotalSeconds} s: {string.Join("; ", attempts)}");
    }

    public sealed record Attempt(TimeSpan Took, string? Error);
}

using System.Text.Json;
using Npgsql;
using Steward.Engines.Redis.Resp;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Broker;

/// <summary>A catalog service/plan and how an application proves an instance of it is usable.</summary>
internal sealed record Service(string Name, string ServiceId, string PlanId, Func<JsonElement, CancellationToken, Task> UseAsync)
{
    public static readonly Service PostgreSql = new("postgresql", Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone, (c, ct) =>
        Probes.SelectOneAsync(c.GetProperty("host").GetString()!, c.GetProperty("port").GetInt32(), c.GetProperty("username").GetString()!, c.GetProperty("password").GetString()!, c.GetProperty("database").GetString()!, ct));

    public static readonly Service Redis = new("redis", Catalogs.Redis, Catalogs.RedisStandalone, (c, ct) =>
        Probes.PingAsync(c.GetProperty("host").GetString()!, c.GetProperty("port").GetInt32(), c.GetProperty("username").GetString(), c.GetProperty("password").GetString(), ct));
}

/// <summary>One connection and one round trip, with the same client for the broker's instances and the baseline.</summary>
internal static class Probes
{
    public static async Task SelectOneAsync(string host, int port, string user, string password, string database, CancellationToken ct)
    {
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = host,
            Port = port,
            Username = user,
            Password = password,
            Database = database,
            Pooling = false,
            Timeout = 5,
        };
        await using var conn = new NpgsqlConnection(csb.ConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT 1", conn);
        _ = await cmd.ExecuteScalarAsync(ct);
    }

    public static async Task PingAsync(string host, int port, string? user, string? password, CancellationToken ct)
    {
        await using var conn = await RespConnection.ConnectAsync(host, port, user, password, ct);
        var reply = await conn.ExecuteAsync(["PING"], ct);
        if (reply.AsText() != "PONG")
        {
            throw new InvalidOperationException($"PING answered {reply}");
        }
    }
}

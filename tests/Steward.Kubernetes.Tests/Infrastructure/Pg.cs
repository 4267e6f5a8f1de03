using System.Text.Json;
using Npgsql;

namespace Steward.Kubernetes.Tests.Infrastructure;

/// <summary>SQL through a binding's credentials, over the instance's Service.</summary>
internal static class Pg
{
    public static async Task<NpgsqlConnection> OpenAsync(JsonElement credentials)
    {
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = credentials.GetProperty("host").GetString(),
            Port = credentials.GetProperty("port").GetInt32(),
            Username = credentials.GetProperty("username").GetString(),
            Password = credentials.GetProperty("password").GetString(),
            Database = credentials.GetProperty("database").GetString(),
            Pooling = false,
            Timeout = 5,
            CommandTimeout = 300,
        }.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    public static async Task ExecuteAsync(JsonElement credentials, string sql)
    {
        await using var conn = await OpenAsync(credentials);
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<object?> ScalarAsync(JsonElement credentials, string sql)
    {
        await using var conn = await OpenAsync(credentials);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}

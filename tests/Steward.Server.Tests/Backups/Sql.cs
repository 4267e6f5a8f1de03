using Npgsql;
using Steward.Server.Tests.Lifecycle;

namespace Steward.Server.Tests.Backups;

/// <summary>Runs SQL through a binding's credentials.</summary>
internal static class Sql
{
    public static async Task ExecAsync(string uri, string sql)
    {
        await using var conn = await PostgreSqlLifecycleTests.OpenAsync(uri);
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 300 };
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<string?> ScalarAsync(string uri, string sql)
    {
        await using var conn = await PostgreSqlLifecycleTests.OpenAsync(uri);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (await cmd.ExecuteScalarAsync())?.ToString();
    }
}

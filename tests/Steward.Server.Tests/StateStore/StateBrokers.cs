using System.Diagnostics;
using Npgsql;
using Steward.Server.Tests.Lifecycle;

namespace Steward.Server.Tests.StateStore;

/// <summary>What the tests of brokers on a PostgreSQL store share.</summary>
internal static class StateBrokers
{
    /// <summary>
    /// The settings of a broker on <paramref name="uri"/>, with a short lease so that restarts take over quickly (5 s:
    /// the active fences itself after 3.75 s without a renewal, which a loaded test machine should never see).
    /// </summary>
    public static Dictionary<string, string> OnPostgreSql(string uri) => new()
    {
        ["STEWARD_STATE_STORE"] = "postgresql",
        ["STEWARD_STATE_POSTGRESQL"] = uri,
        ["STEWARD_LEASE_DURATION_MS"] = "5000",
    };

    /// <summary>One value read straight from the state database.</summary>
    public static async Task<string?> StateAsync(string uri, string sql)
    {
        await using var conn = await PostgreSqlLifecycleTests.OpenAsync(uri);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (await cmd.ExecuteScalarAsync())?.ToString();
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, int seconds = 90)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"condition not met within {seconds} s");
            }

            await Task.Delay(50);
        }
    }
}

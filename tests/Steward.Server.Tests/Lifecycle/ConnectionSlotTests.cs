using System.Diagnostics;
using Npgsql;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

/// <summary>
/// Applications keep every connection slot they had before the health check held a session of its own
/// (docs/supervision.md#the-checks-connection): max_connections minus PostgreSQL's 3 reserved for superusers.
/// </summary>
[Collection("broker")]
public sealed class ConnectionSlotTests(BrokerFixture broker)
{
    [Fact]
    public async Task With_the_checks_session_held_a_binding_still_opens_max_connections_minus_three_and_no_more()
    {
        var osb = broker.Client;
        var id = "pg-slots-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone, new { max_connections = 10 });
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        var clock = Stopwatch.StartNew();
        while (await Sql.ScalarAsync(uri, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'steward-check'") != "1")
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the check holds its session");
            await Task.Delay(100);
        }

        NpgsqlConnection.ClearAllPools();
        var open = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 7; i++)
            {
                open.Add(await PostgreSqlLifecycleTests.OpenAsync(uri));
            }

            var refused = await Should.ThrowAsync<PostgresException>(() => PostgreSqlLifecycleTests.OpenAsync(uri));
            refused.SqlState.ShouldBe("53300", refused.Message);
        }
        finally
        {
            foreach (var conn in open)
            {
                await conn.DisposeAsync();
            }
        }

        (await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).Status.ShouldBe(System.Net.HttpStatusCode.Accepted);
    }
}

using System.Diagnostics;
using System.Net;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Rebuild;

/// <summary>
/// A PostgreSQL cluster without data checksums (made by a Steward from before they were on, or restored from such a
/// cluster's backup) gets them at its rebuild, so partial repair can serve it from then on; a kill -9 of the broker
/// while pg_checksums runs changes nothing of that. Each test owns its broker, since it stops or kills it.
/// </summary>
public sealed class RebuildChecksumTests
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cluster_without_data_checksums_has_them_after_its_rebuild_with_every_row(bool killWhileEnabling)
    {
        await using var server = await StewardServer.StartAsync();
        var osb = server.Client;
        var id = "rb-cks-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "app-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;

        // About 110 MB of table, so pg_checksums rewrites for a while (long enough to be killed in the middle).
        await Sql.ExecAsync(uri, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, repeat('x', 1000) FROM generate_series(1, 100000) g");
        var instance = (await osb.ApiAsync($"/instances/{id}")).Body;
        var directory = instance.GetProperty("directory").GetString()!;
        var pid = instance.GetProperty("process").GetProperty("pid").GetInt32();

        // Turn the cluster into one without checksums: the broker stopped (the instance keeps running), the server
        // shut down cleanly, pg_checksums --disable as the service user; the restarted broker starts it again.
        await server.StopAsync();
        Processes.IsAlive(pid).ShouldBeTrue("the instance outlives the broker");
        Processes.Kill(pid, 2);
        var clock = Stopwatch.StartNew();
        while (Processes.IsAlive(pid))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the server shuts down");
            await Task.Delay(20);
        }

        await Processes.RunAsync("setpriv", "--reuid=steward", "--regid=steward", "--clear-groups", "/usr/lib/postgresql/15/bin/pg_checksums", "--disable", "--pgdata", Path.Combine(directory, "data"));
        await server.StartProcessAsync();
        await WaitAnswerAsync(uri);
        (await Sql.ScalarAsync(uri, "SHOW data_checksums")).ShouldBe("off");
        await osb.BackupAsync(id);

        var started = await server.RequestRebuildAsync(id, null, null);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var operation = started.Str("operation")!;
        if (killWhileEnabling)
        {
            clock.Restart();
            while (!Processes.Under(directory).Any(p => Processes.CommandLine(p).Contains("pg_checksums", StringComparison.Ordinal)))
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(120), "the rebuild never ran pg_checksums");
                await Task.Delay(2);
            }

            await server.KillAsync();
            await server.StartProcessAsync();
        }

        var done = await osb.WaitOperationAsync(operation);
        done.GetProperty("state").GetString().ShouldBe("succeeded", done.GetRawText() + "\n" + server.Log);
        (await Sql.ScalarAsync(uri, "SHOW data_checksums")).ShouldBe("on");
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM orders")).ShouldBe("100000");
        var incident = await osb.IncidentAsync(started.Str("incident_id")!);
        incident.GetProperty("timeline").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "checksums-enabled").GetProperty("detail").GetString()!.ShouldContain("pg_checksums --enable");

        // Partial repair's detection works on it now: a clean verify of the rebuilt cluster reads every page's checksum.
        var verify = await osb.PostAsync($"/instances/{id}/verify");
        verify.Body.GetProperty("clean").GetBoolean().ShouldBeTrue(verify.ToString());
        Processes.Under(directory).Count(p => Processes.CommandLine(p).Contains("pg_checksums", StringComparison.Ordinal)).ShouldBe(0, "no pg_checksums is left running");
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal) && c.Contains(directory, StringComparison.Ordinal)).ShouldBe(1);
        await osb.DeprovisionGoneAsync(id, Pg, PgPlan);
    }

    private static async Task WaitAnswerAsync(string uri)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Sql.ScalarAsync(uri, "SELECT 1");
                return;
            }
            catch (Npgsql.NpgsqlException) when (clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(100);
            }
        }
    }
}

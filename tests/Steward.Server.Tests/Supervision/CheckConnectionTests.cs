using System.Diagnostics;
using Npgsql;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Supervision;

/// <summary>
/// The PostgreSQL check holds one session between checks (docs/supervision.md#what-a-check-proves) instead of a new
/// authenticated connection every check, and stays as honest: a session someone ended fails no check, a server that
/// refuses new sessions while its existing ones still answer is found by the check's ping, and the held session never
/// keeps a server from shutting down.
/// </summary>
public sealed class CheckConnectionTests
{
    [Fact]
    public async Task A_PostgreSQL_check_holds_one_session_a_terminated_session_fails_no_check_and_a_server_refusing_new_sessions_is_found()
    {
        // Checks every 500 ms; 4 failures in a row make an incident, so a shutdown has time to finish before the
        // supervisor acts on its failed checks.
        await using var server = await StewardServer.StartAsync(new Dictionary<string, string>
        {
            ["STEWARD_HEALTH_INTERVAL_MS"] = "500",
            ["STEWARD_HEALTH_TIMEOUT_MS"] = "2000",
            ["STEWARD_HEALTH_FAILURES"] = "4",
            ["STEWARD_WAL_MONITOR_INTERVAL_MS"] = "500",
            // The password is proven again on a new session only hourly here, so every new session below has another cause.
            ["STEWARD_POSTGRESQL_CHECK_RECONNECT_INTERVAL"] = "3600",
        });
        var osb = server.Client;
        var id = "hold-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        var instance = (await osb.ApiAsync($"/instances/{id}")).Body;
        var serverLog = Path.Combine(instance.GetProperty("directory").GetString()!, "log", "server.log");
        await WaitChecksAsync(osb, id, 1);

        // One session across checks.
        var held = await CheckSessionAsync(uri, except: null);
        await WaitChecksAsync(osb, id, 4);
        (await CheckSessionsAsync(uri)).ShouldBe([held], "four checks later the check still uses the one session it holds");

        // No new session at all, while the check runs every 500 ms and the WAL monitor reads the archiver's state every
        // 500 ms: both use the held session, and the check's ping ends before a session begins.
        var sessions = await SessionsAsync(uri);
        await WaitChecksAsync(osb, id, 4);
        (await SessionsAsync(uri)).ShouldBe(sessions, "sessions established to the postgres database while the check and the WAL monitor ran");

        // Ended from outside (what pg_terminate_backend does): the next check replaces it without failing.
        var logMark = server.Log.Length;
        Processes.Kill(held, 15);
        var replacement = await CheckSessionAsync(uri, except: held);
        await WaitChecksAsync(osb, id, 3);
        (await CheckSessionsAsync(uri)).ShouldBe([replacement]);
        server.Log[logMark..].ShouldNotContain($"Instance {id}: health check failed", customMessage: "a held session that was ended fails no check");

        // The ping ends its streams cleanly: the server logs nothing for it.
        File.ReadAllText(serverLog).ShouldNotContain("could not receive data from client", customMessage: "the check's ping left resets in the server's log");

        // A smart shutdown (SIGTERM to the postmaster) refuses new sessions and waits for every open one to end. The held
        // session still answers; the check's ping sees the refusal, and the check lets go of its session, so the
        // shutdown goes on to its checkpoint before the supervisor does anything.
        NpgsqlConnection.ClearAllPools();
        var postmaster = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        Processes.Kill(postmaster, 15);
        var clock = Stopwatch.StartNew();
        var refused = new System.Text.RegularExpressions.Regex($@"Instance {id}: health check failed \(\d+ in a row\): the server refuses new connections: the database system is shutting down");
        while (!refused.IsMatch(server.Log[logMark..]))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20), $"no check saw the server refuse new sessions:\n{server.Log[logMark..]}");
            await Task.Delay(50);
        }

        while (!File.ReadAllText(serverLog).Contains("checkpoint starting: shutdown", StringComparison.Ordinal))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(20), $"the smart shutdown never reached its checkpoint:\n{File.ReadAllText(serverLog)}");
            await Task.Delay(50);
        }

        var log = File.ReadAllText(serverLog);
        var smart = log.IndexOf("received smart shutdown request", StringComparison.Ordinal);
        var fast = log.IndexOf("received fast shutdown request", smart, StringComparison.Ordinal);
        (fast < 0 || fast > log.IndexOf("checkpoint starting: shutdown", smart, StringComparison.Ordinal)).ShouldBeTrue($"the shutdown waited for the check's session until the supervisor stopped the server:\n{log[smart..]}");

        (await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).Status.ShouldBe(System.Net.HttpStatusCode.Accepted);
    }

    /// <summary>Sessions ever established to the <c>postgres</c> database (the check's and the monitor's database).</summary>
    /// <remarks>A session that ends reports its statistics as it exits; the held one did long ago (it has run for seconds).</remarks>
    private static Task<string?> SessionsAsync(string uri) => Sql.ScalarAsync(uri, "SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'");

    private static async Task<List<int>> CheckSessionsAsync(string uri) =>
        ((await Sql.ScalarAsync(uri, "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE application_name = 'steward-check'")) ?? string.Empty)
        .Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();

    /// <summary>The pid of the check's one session, once there is one other than <paramref name="except"/>.</summary>
    private static async Task<int> CheckSessionAsync(string uri, int? except)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var sessions = await CheckSessionsAsync(uri);
            if (sessions is [var pid] && pid != except)
            {
                return pid;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), $"the check's sessions: {string.Join(", ", sessions)}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until the instance's <c>last_check</c> has changed <paramref name="count"/> times, healthy at every look.</summary>
    private static async Task WaitChecksAsync(OsbClient osb, string id, int count)
    {
        var clock = Stopwatch.StartNew();
        var seen = new HashSet<string>();
        while (seen.Count <= count)
        {
            var health = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("health");
            // No last_check before the first check.
            if (health.TryGetProperty("last_check", out var check) && check.GetString() is { } last)
            {
                health.GetProperty("status").GetString().ShouldBe("healthy", health.ToString());
                seen.Add(last);
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), $"the health checks went on: {health}");
            await Task.Delay(50);
        }
    }
}

using System.Diagnostics;
using System.Net;
using Npgsql;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;
using static Steward.Server.Tests.StateStore.StateBrokers;

namespace Steward.Server.Tests.StateStore;

/// <summary>
/// Two brokers on one PostgreSQL store and one data directory (as a hot spare on the same host would run): one active,
/// the other a standby that refuses work, takes over within the lease's bound when the active dies, and finishes what
/// the dead one left in progress. An active that loses its lease stops itself.
/// </summary>
[Collection("state-postgres")]
public sealed class ActiveStandbyTests(StatePostgres postgres)
{
    private const string S = Catalogs.PostgreSql;
    private const string P = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task The_standby_refuses_work_until_the_active_is_killed_then_takes_over_in_bounded_time_and_finishes_its_provision()
    {
        var uri = await postgres.CreateDatabaseAsync();
        await using var active = await StewardServer.StartAsync(OnPostgreSql(uri));
        await using var standby = await StewardServer.StartAsync(Beside(active, uri), standby: true);

        var index = await standby.Client.SendAsync(HttpMethod.Get, "/", version: null, authenticate: false);
        (index.Status, index.Str("role")).ShouldBe((HttpStatusCode.OK, "standby"));
        var activeName = index.Str("active")!;
        activeName.ShouldNotBeEmpty("the standby says which broker is active");
        (await standby.Client.SendAsync(HttpMethod.Get, "/readyz", version: null, authenticate: false)).Status.ShouldBe(HttpStatusCode.ServiceUnavailable, "not ready: a Service sends nobody to it");
        var refused = await standby.Client.ProvisionAsync("refused-" + Guid.NewGuid().ToString("N")[..8], S, P);
        refused.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        refused.Headers.RetryAfter.ShouldNotBeNull();
        refused.Str("description")!.ShouldContain($"standby (the active broker is {activeName})");
        (await standby.Client.ApiAsync("/instances")).Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await active.Client.SendAsync(HttpMethod.Get, "/readyz", version: null, authenticate: false)).Status.ShouldBe(HttpStatusCode.OK);

        var id = "takeover-" + Guid.NewGuid().ToString("N")[..8];
        var started = await active.Client.ProvisionAsync(id, S, P);
        started.Status.ShouldBe(HttpStatusCode.Accepted);
        await WaitUntilAsync(() => Task.FromResult(active.InstanceDirectories().Count == 1));
        await active.KillAsync();

        // Lease 5 s: the standby takes over 5 s after the last renewal it saw, at its next look (1 s apart); the rest is
        // slack for a loaded machine.
        var clock = Stopwatch.StartNew();
        await WaitUntilAsync(async () => (await standby.Client.SendAsync(HttpMethod.Get, "/readyz", version: null, authenticate: false)).Status == HttpStatusCode.OK, seconds: 30);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
        clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(2), "not before the dead broker's lease ran out");

        var done = await standby.Client.WaitAsync(id, started.Str("operation"));
        done.Str("state").ShouldBe("succeeded", done.ToString() + "\n" + standby.Log);
        standby.Log.ShouldContain("Resuming operation");
        active.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal)).ShouldBe(1, "one server: the standby adopted or finished it, it did not start a second");
        var credentials = await standby.Client.BindReadyAsync(id, "b-" + id, S, P);
        await using var conn = await PostgreSqlLifecycleTests.OpenAsync(credentials.GetProperty("uri").GetString()!);
        conn.State.ShouldBe(System.Data.ConnectionState.Open);
    }

    [Fact]
    public async Task An_active_broker_whose_lease_was_taken_over_stops_itself_and_the_standby_serves()
    {
        var uri = await postgres.CreateDatabaseAsync();
        await using var active = await StewardServer.StartAsync(OnPostgreSql(uri));
        await using var standby = await StewardServer.StartAsync(Beside(active, uri), standby: true);
        var pid = active.Pid!.Value;

        // As if the active had been cut off long enough for another broker to take the lease over.
        await using (var conn = await PostgreSqlLifecycleTests.OpenAsync(uri))
        await using (var cmd = new NpgsqlCommand("UPDATE broker_lease SET holder = 'elsewhere', epoch = epoch + 1, version = version + 1", conn))
        {
            (await cmd.ExecuteNonQueryAsync()).ShouldBe(1);
        }

        await WaitUntilAsync(() => Task.FromResult(!Processes.IsAlive(pid)), seconds: 30);
        active.Log.ShouldContain("fenced: another broker took the lease over");

        // 'elsewhere' never renews: the standby takes over from it.
        await WaitUntilAsync(async () => (await standby.Client.SendAsync(HttpMethod.Get, "/readyz", version: null, authenticate: false)).Status == HttpStatusCode.OK, seconds: 30);
        (await standby.Client.SendAsync(HttpMethod.Get, "/v2/catalog")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_active_broker_that_loses_its_state_database_stops_itself_before_its_lease_could_run_out()
    {
        // A database of its own, to take away.
        var own = new StatePostgres();
        await own.InitializeAsync();
        StewardServer? active = null;
        try
        {
            active = await StewardServer.StartAsync(OnPostgreSql(await own.CreateDatabaseAsync()));
            var pid = active.Pid!.Value;
            await own.DisposeAsync();

            // 5 s lease: renewals fail from now on, and the broker must be gone before any standby could take over.
            var clock = Stopwatch.StartNew();
            await WaitUntilAsync(() => Task.FromResult(!Processes.IsAlive(pid)), seconds: 30);
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
            // The harness appends the broker's output to its log as it reads it: the last lines may land after the exit.
            await WaitUntilAsync(() => Task.FromResult(active.Log.Contains("fenced: the lease was not renewed for three quarters of its duration", StringComparison.OrdinalIgnoreCase)), seconds: 10);
        }
        finally
        {
            if (active is not null)
            {
                await active.DisposeAsync();
            }

            await own.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_gracefully_stopped_active_hands_the_lease_over_at_once()
    {
        var uri = await postgres.CreateDatabaseAsync();
        await using var active = await StewardServer.StartAsync(OnPostgreSql(uri));
        await using var standby = await StewardServer.StartAsync(Beside(active, uri, leaseMs: 60_000), standby: true);

        await active.StopAsync();
        active.Log.ShouldContain("gave the lease up");

        // A 60 s lease for the standby: taking over at once shows the lease was given up, not waited out.
        var clock = Stopwatch.StartNew();
        await WaitUntilAsync(async () => (await standby.Client.SendAsync(HttpMethod.Get, "/readyz", version: null, authenticate: false)).Status == HttpStatusCode.OK, seconds: 40);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(40));
    }

    /// <summary>A second broker on the same store, data directory and instance ports as <paramref name="active"/>.</summary>
    private static Dictionary<string, string> Beside(StewardServer active, string uri, int leaseMs = 5000)
    {
        var settings = OnPostgreSql(uri);
        settings["STEWARD_DATA_DIR"] = active.DataDir;
        settings["STEWARD_PORT_RANGE"] = active.PortRange;
        settings["STEWARD_LEASE_DURATION_MS"] = leaseMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }
}

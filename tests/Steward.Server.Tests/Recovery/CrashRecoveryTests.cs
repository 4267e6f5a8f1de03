using System.Net;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;

namespace Steward.Server.Tests.Recovery;

/// <summary>
/// kill -9 of the broker at awkward moments, then a restart on the same data: every operation ends
/// cleanly, no process or directory is orphaned, and running instances are adopted rather than duplicated.
/// Each test owns its broker, since it kills it.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const string S = Catalogs.PostgreSql;
    private const string P = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task A_provision_interrupted_by_kill_9_finishes_after_restart_with_one_server()
    {
        await using var server = await StewardServer.StartAsync();
        var id = "crash-prov-" + Guid.NewGuid().ToString("N")[..8];
        var started = await server.Client.ProvisionAsync(id, S, P);
        started.Status.ShouldBe(HttpStatusCode.Accepted);

        // Kill while initdb runs (the data directory exists but the server is not up yet).
        await WaitUntilAsync(() => server.InstanceDirectories().Count == 1);
        await server.KillAsync();
        (await server.Client.Http.GetAsync("/v2/catalog").ContinueWith(t => t.IsFaulted)).ShouldBeTrue("the broker is dead");

        await server.StartProcessAsync();
        var done = await server.Client.WaitAsync(id, started.Str("operation"));
        done.Str("state").ShouldBe("succeeded", done.ToString() + "\n" + server.Log);
        server.InstanceDirectories().Count.ShouldBe(1);
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal)).ShouldBe(1);
        server.Log.ShouldContain("Resuming operation");

        var credentials = await server.Client.BindReadyAsync(id, "b-" + id, S, P);
        await using var conn = await PostgreSqlLifecycleTests.OpenAsync(credentials.GetProperty("uri").GetString()!);
        conn.State.ShouldBe(System.Data.ConnectionState.Open);
    }

    [Fact]
    public async Task A_deprovision_interrupted_by_kill_9_finishes_after_restart_and_leaves_nothing()
    {
        await using var server = await StewardServer.StartAsync();
        var id = "crash-del-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.ProvisionReadyAsync(id, S, P);
        var directory = (await server.Client.ApiAsync($"/instances/{id}")).Body.GetProperty("directory").GetString()!;

        var delete = await server.Client.DeprovisionAsync(id, S, P);
        delete.Status.ShouldBe(HttpStatusCode.Accepted);
        await server.KillAsync();

        await server.StartProcessAsync();
        var gone = await server.Client.WaitAsync(id, delete.Str("operation"));
        gone.Status.ShouldBe(HttpStatusCode.Gone, gone.ToString() + "\n" + server.Log);
        Processes.Under(directory).ShouldBeEmpty();
        Directory.Exists(directory).ShouldBeFalse();
        (await server.Client.DeprovisionAsync(id, S, P)).Status.ShouldBe(HttpStatusCode.Gone);
    }

    [Fact]
    public async Task Running_instances_are_adopted_after_a_broker_kill_and_restarted_if_they_died_meanwhile()
    {
        await using var server = await StewardServer.StartAsync();
        var kept = "adopt-" + Guid.NewGuid().ToString("N")[..8];
        var died = "revive-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.ProvisionReadyAsync(kept, Catalogs.Redis, Catalogs.RedisStandalone);
        await server.Client.ProvisionReadyAsync(died, Catalogs.Redis, Catalogs.RedisStandalone);
        var keptPid = (await server.Client.ApiAsync($"/instances/{kept}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        var diedPid = (await server.Client.ApiAsync($"/instances/{died}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        var credentials = await server.Client.BindReadyAsync(died, "b-" + died, Catalogs.Redis, Catalogs.RedisStandalone);

        await server.KillAsync();
        Processes.IsAlive(keptPid).ShouldBeTrue("instances outlive the broker");
        Processes.Kill(diedPid);
        await WaitUntilAsync(() => !Processes.IsAlive(diedPid));

        await server.StartProcessAsync();
        await WaitUntilAsync(async () => (await server.Client.ApiAsync($"/instances/{died}")).Body.GetProperty("process").GetProperty("status").GetString() == "running");
        (await server.Client.ApiAsync($"/instances/{kept}")).Body.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(keptPid);
        server.ServerProcesses().Count(c => c.StartsWith("/usr/bin/redis-server", StringComparison.Ordinal)).ShouldBe(2);

        // "running" is the process; the server may still be starting to listen (ci21 met it refusing): its answer is polled.
        await WaitUntilAsync(async () => await PingsAsync(credentials));
    }

    private static async Task<bool> PingsAsync(System.Text.Json.JsonElement credentials)
    {
        try
        {
            await using var conn = await RedisLifecycleTests.ConnectAsync(credentials);
            return (await conn.ExecuteAsync(["PING"], default)).AsText() == "PONG";
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_graceful_broker_stop_leaves_instances_running_and_a_restart_adopts_them()
    {
        await using var server = await StewardServer.StartAsync();
        var id = "graceful-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var pid = (await server.Client.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32();

        await server.StopAsync();
        Processes.IsAlive(pid).ShouldBeTrue();
        await server.StartProcessAsync();
        await WaitUntilAsync(() => server.Log.Contains("adopted", StringComparison.Ordinal));
        (await server.Client.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(pid);
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("condition not met within 60 s");
            }

            await Task.Delay(20);
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Steward.Engines;
using Steward.Engines.Redis;
using Steward.Engines.Redis.Resp;
using Steward.Instances;
using Steward.Runtime;
using Steward.Runtime.Local;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Supervision;

/// <summary>
/// The Redis check holds one authenticated connection between checks (docs/supervision.md#the-checks-connection) and
/// stays as honest as a new connection per check: a server that stops answering fails the check within its timeout,
/// a restarted server is checked on a new connection without a failed check, and what only a new connection proves
/// (here: a changed password) is proven again once the reconnect interval has passed. A real redis-server, started by
/// the local runtime as the broker starts it; the engine is driven directly, with a hand-driven clock.
/// </summary>
public sealed class RedisCheckConnectionTests : IDisposable
{
    private static readonly TimeSpan Reconnect = TimeSpan.FromMinutes(1);
    private readonly string _root = Directory.CreateTempSubdirectory("redis-check-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero));

    public RedisCheckConnectionTests() => File.SetUnixFileMode(_root, (UnixFileMode)0b111_001_001);

    [Fact]
    public async Task A_held_connection_check_fails_when_the_server_stops_answering_and_passes_again_once_it_answers()
    {
        var (engine, context, runtime) = await StartAsync();
        await using var counter = await AdminAsync(context);
        await engine.CheckAsync(context, CancellationToken.None);
        var opened = await ConnectionsAsync(counter);
        for (var i = 0; i < 5; i++)
        {
            await engine.CheckAsync(context, CancellationToken.None);
        }

        (await ConnectionsAsync(counter)).ShouldBe(opened, "five more checks opened connections instead of using the held one");

        // Stopped (SIGSTOP): the kernel still accepts connections, nothing answers. The held connection's PING waits
        // for the check's timeout, and so does the next check's new connection.
        var pid = ((ProcessStatus.Running)runtime.GetStatus(context.Paths)).Pid;
        Processes.Kill(pid, 19);
        try
        {
            for (var i = 0; i < 2; i++)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                var clock = Stopwatch.StartNew();
                await Should.ThrowAsync<OperationCanceledException>(() => engine.CheckAsync(context, timeout.Token), $"check {i + 1} of a stopped server passed");
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10), "the check outlived its timeout");
            }
        }
        finally
        {
            Processes.Kill(pid, 18);
        }

        await engine.CheckAsync(context, CancellationToken.None);
        (await ConnectionsAsync(counter)).ShouldBeGreaterThan(opened, "the check after the failures made a new connection");
    }

    [Fact]
    public async Task The_held_connection_leaves_the_plan_s_clients_to_the_applications()
    {
        var (engine, context, _) = await StartAsync();
        await engine.CheckAsync(context, CancellationToken.None);
        var clients = new List<RespConnection>();
        try
        {
            for (var i = 0; i < context.Plan.Limits.MaxConnections; i++)
            {
                clients.Add(await AdminAsync(context));
                (await clients[^1].ExecuteAsync(["PING"], CancellationToken.None)).AsText().ShouldBe("PONG", $"client {i + 1} of {context.Plan.Limits.MaxConnections}");
            }

            await engine.CheckAsync(context, CancellationToken.None);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task After_a_restart_the_check_passes_on_a_new_connection_and_holds_that_one()
    {
        var (engine, context, runtime) = await StartAsync();
        await engine.CheckAsync(context, CancellationToken.None);
        await engine.CheckAsync(context, CancellationToken.None);

        var pid = ((ProcessStatus.Running)runtime.GetStatus(context.Paths)).Pid;
        Processes.Kill(pid, 9);
        await WaitAsync(() => runtime.GetStatus(context.Paths) is not ProcessStatus.Running, "the killed server to be seen gone");
        await runtime.StartAsync(context.Paths, engine.Launch(context), CancellationToken.None);
        await WaitAnswersAsync(engine, context);

        // The held connection died with the old server: this check replaces it and passes.
        await engine.CheckAsync(context, CancellationToken.None);
        await using var counter = await AdminAsync(context);
        var opened = await ConnectionsAsync(counter);
        for (var i = 0; i < 3; i++)
        {
            await engine.CheckAsync(context, CancellationToken.None);
        }

        (await ConnectionsAsync(counter)).ShouldBe(opened, "after the restart the check holds its new connection");
    }

    [Fact]
    public async Task A_changed_password_fails_the_check_once_the_reconnect_interval_has_passed()
    {
        var (engine, context, _) = await StartAsync();
        await using var counter = await AdminAsync(context);
        await engine.CheckAsync(context, CancellationToken.None);
        var opened = await ConnectionsAsync(counter);

        // Within the interval the held connection is used; past it, a new one is opened (and only one).
        _clock.Advance(Reconnect - TimeSpan.FromSeconds(1));
        await engine.CheckAsync(context, CancellationToken.None);
        (await ConnectionsAsync(counter)).ShouldBe(opened);
        _clock.Advance(TimeSpan.FromSeconds(2));
        await engine.CheckAsync(context, CancellationToken.None);
        await engine.CheckAsync(context, CancellationToken.None);
        (await ConnectionsAsync(counter)).ShouldBe(opened + 1, "one new connection once the interval passed");

        // The admin password changed behind Steward's back: the held connection stays authenticated, the next new one does not.
        await counter.ExecuteAsync(["ACL", "SETUSER", context.Instance.AdminUser, "resetpass", ">" + Guid.NewGuid().ToString("N")], CancellationToken.None);
        await engine.CheckAsync(context, CancellationToken.None);
        _clock.Advance(Reconnect + TimeSpan.FromSeconds(1));
        var refused = await Should.ThrowAsync<RespException>(() => engine.CheckAsync(context, CancellationToken.None));
        refused.Message.ShouldStartWith("authentication failed");
        refused.Message.ShouldNotContain(context.Instance.AdminPassword);
    }

    public void Dispose()
    {
        Processes.KillAllUnder(_root);
        Directory.Delete(_root, recursive: true);
    }

    private async Task<(RedisEngine Engine, EngineContext Context, LocalProcessRuntime Runtime)> StartAsync()
    {
        var runtime = new LocalProcessRuntime(new LocalRuntimeOptions { InstancesRoot = Path.Combine(_root, "instances"), ServiceUser = Environment.UserName }, NullLogger<LocalProcessRuntime>.Instance);
        var engine = new RedisEngine(new RedisEngineOptions { CheckReconnectInterval = Reconnect }, _clock);
        engine.Unavailable.ShouldBeNull();
        var plan = engine.Offering.Plans.First(p => p.Name == "standalone");
        var now = _clock.GetUtcNow();
        var instance = new ServiceInstance
        {
            Id = "rc-" + Guid.NewGuid().ToString("N")[..8],
            InternalId = "i" + Guid.NewGuid().ToString("N")[..12],
            ServiceId = engine.Offering.Id,
            PlanId = plan.Id,
            Port = FreePort(),
            AdminUser = "steward_admin",
            AdminPassword = Guid.NewGuid().ToString("N"),
            State = InstanceState.Ready,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var paths = runtime.PathsFor(instance.InternalId);
        var context = new EngineContext(instance, plan, paths, runtime);
        await runtime.CreateDirectoriesAsync(paths, CancellationToken.None);
        await engine.InitializeAsync(context, CancellationToken.None);
        await engine.ConfigureAsync(context, CancellationToken.None);
        await runtime.StartAsync(paths, engine.Launch(context), CancellationToken.None);
        await WaitAnswersAsync(engine, context);
        return (engine, context, runtime);
    }

    private static async Task WaitAnswersAsync(RedisEngine engine, EngineContext context)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await engine.ProbeAsync(context, CancellationToken.None);
                return;
            }
            catch (Exception ex) when (ex is RespException or SocketException or IOException && clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(50);
            }
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), $"waited for {what}");
            await Task.Delay(20);
        }
    }

    private static Task<RespConnection> AdminAsync(EngineContext context) =>
        RespConnection.ConnectAsync(context.Host, context.Port, context.Instance.AdminUser, context.Instance.AdminPassword, CancellationToken.None);

    /// <summary>Connections the server accepted since it started (the counting connection included, once).</summary>
    private static async Task<long> ConnectionsAsync(RespConnection admin)
    {
        var info = (await admin.ExecuteAsync(["INFO", "stats"], CancellationToken.None)).AsText()!;
        var line = info.Split("\r\n").Single(l => l.StartsWith("total_connections_received:", StringComparison.Ordinal));
        return long.Parse(line["total_connections_received:".Length..], CultureInfo.InvariantCulture);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

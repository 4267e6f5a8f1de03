using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Steward.Engines.Redis.Resp;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;

namespace Steward.Server.Tests.Supervision;

/// <summary>The supervisor never destroys the only copy of the data: it continues, rescues, then fences.</summary>
public sealed partial class SupervisionTests
{
    [Fact]
    public async Task A_stopped_Redis_is_continued_not_killed_and_keeps_every_key()
    {
        var id = "stop-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            await WriteKeysAsync(conn, 50);
        }

        await WaitHealthyAsync(id);
        var pid = await PidAsync(id);
        Processes.Kill(pid, 19); // SIGSTOP: the process exists and holds its keys (no AOF, no save yet); it just runs no code

        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "resolved");
        incident.GetProperty("class").GetString().ShouldBe("process-stopped");
        incident.GetProperty("restarts").GetInt32().ShouldBe(0);
        incident.GetProperty("evidence").GetProperty("pid").GetInt32().ShouldBe(pid);
        incident.GetProperty("evidence").GetProperty("process_state").GetString().ShouldBe("T (stopped)");
        Kinds(incident).ShouldBe(["detected", "classified", "continued", "resolved"]);
        Kinds(incident).ShouldNotContain("stopped", "nothing was fenced");

        (await PidAsync(id)).ShouldBe(pid, "the same process serves on: it was continued, not replaced");
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            (await conn.ExecuteAsync(["DBSIZE"], default)).AsText().ShouldBe("50");
            (await conn.ExecuteAsync(["GET", "key:49"], default)).AsText().ShouldBe("value-49");
        }

        await DeleteAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_stopped_PostgreSQL_is_continued_and_keeps_its_process_and_rows()
    {
        var id = "pgstop-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var uri = (await Osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        await using (var conn = await PostgreSqlLifecycleTests.OpenAsync(uri))
        await using (var cmd = new Npgsql.NpgsqlCommand("CREATE TABLE kept AS SELECT g AS n FROM generate_series(1, 500) g", conn))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        await WaitHealthyAsync(id);
        var pid = await PidAsync(id);
        Processes.Kill(pid, 19);

        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "resolved");
        incident.GetProperty("class").GetString().ShouldBe("process-stopped");
        Kinds(incident).ShouldBe(["detected", "classified", "continued", "resolved"]);
        (await PidAsync(id)).ShouldBe(pid);
        await using (var conn = await PostgreSqlLifecycleTests.OpenAsync(uri))
        await using (var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM kept", conn))
        {
            (await cmd.ExecuteScalarAsync()).ShouldBe(500L);
        }

        await DeleteAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    [Fact]
    public async Task A_Redis_whose_data_directory_is_removed_has_every_key_rescued_before_it_is_fenced()
    {
        const int Keys = 10_600;
        var id = "lost-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            await WriteKeysAsync(conn, Keys);
        }

        await WaitHealthyAsync(id);
        var directory = (await InstanceAsync(id)).GetProperty("directory").GetString()!;
        var removedAt = Stopwatch.StartNew();
        Directory.Delete(Path.Combine(directory, "data"), recursive: true);

        // Found by the health check within seconds (not after a failed save ~70 s later), and quarantined.
        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "quarantined");
        removedAt.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(25));
        incident.GetProperty("class").GetString().ShouldBe("data-corruption");
        incident.GetProperty("restarts").GetInt32().ShouldBe(0);
        var timeline = Kinds(incident);
        timeline.ShouldBe(["detected", "classified", "rescued", "stopped", "quarantined"], string.Join(" | ", incident.GetProperty("timeline").EnumerateArray().Select(e => e.GetRawText())));
        var rescuedTo = incident.GetProperty("evidence").GetProperty("rescued_to").GetString()!;
        rescuedTo.ShouldStartWith(directory + "/rescued/");
        Detail(incident, "rescued").ShouldContain($"{Keys} keys saved by SAVE to {rescuedTo}/dump.rdb");
        Detail(incident, "stopped").ShouldContain("shut down cleanly on SIGTERM");
        incident.GetProperty("summary").GetString()!.ShouldContain($"rescued to {rescuedTo}");
        Processes.Under(directory).ShouldBeEmpty();

        // Every key is in the rescued file: an independent redis-server loads it.
        await using (var copy = await StandaloneRedis.StartAsync(rescuedTo))
        await using (var conn = await RespConnection.ConnectAsync("127.0.0.1", copy.Port, null, null, default))
        {
            (await conn.ExecuteAsync(["DBSIZE"], default)).AsText().ShouldBe(Keys.ToString(CultureInfo.InvariantCulture));
            (await conn.ExecuteAsync(["GET", "key:0"], default)).AsText().ShouldBe("value-0");
            (await conn.ExecuteAsync(["GET", $"key:{Keys - 1}"], default)).AsText().ShouldBe($"value-{Keys - 1}");
        }

        await DeleteAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_PostgreSQL_whose_data_directory_is_removed_is_quarantined_without_a_restart_and_says_nothing_could_be_rescued()
    {
        var id = "pglost-" + Guid.NewGuid().ToString("N")[..8];
        await Osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await WaitHealthyAsync(id);
        var directory = (await InstanceAsync(id)).GetProperty("directory").GetString()!;

        Files.RemoveTree(Path.Combine(directory, "data"));

        var incident = await WaitForIncidentAsync(id, i => i.GetProperty("state").GetString() == "quarantined");
        incident.GetProperty("class").GetString().ShouldBe("data-corruption");
        incident.GetProperty("evidence").GetProperty("class_evidence").GetString()!.ShouldContain("data directory");
        incident.GetProperty("restarts").GetInt32().ShouldBe(0, incident.GetRawText());
        Kinds(incident).ShouldNotContain("restarted");

        // PostgreSQL often dies of the removal before the next check; when it was still running, the incident says
        // that nothing could be rescued before it was fenced.
        if (Kinds(incident).Contains("not-rescued"))
        {
            Kinds(incident).ShouldBe(["detected", "classified", "not-rescued", "stopped", "quarantined"], incident.GetRawText());
            Detail(incident, "not-rescued").ShouldContain("postgresql cannot save a running server's data outside its data directory");
        }
        Processes.Under(directory).ShouldBeEmpty();
        await DeleteAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    private static string Detail(JsonElement incident, string kind) =>
        incident.GetProperty("timeline").EnumerateArray().First(e => e.GetProperty("kind").GetString() == kind).GetProperty("detail").GetString()!;

    /// <summary>key:N = value-N, in MSET batches.</summary>
    private static async Task WriteKeysAsync(RespConnection conn, int count)
    {
        for (var start = 0; start < count; start += 500)
        {
            var args = new List<string> { "MSET" };
            for (var n = start; n < Math.Min(count, start + 500); n++)
            {
                args.Add($"key:{n}");
                args.Add($"value-{n}");
            }

            (await conn.ExecuteAsync(args, default)).AsText().ShouldBe("OK");
        }

        (await conn.ExecuteAsync(["DBSIZE"], default)).AsText().ShouldBe(count.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A redis-server of the test's own that loads dump.rdb from a directory, stopped by its pid.</summary>
    private sealed class StandaloneRedis : IAsyncDisposable
    {
        private readonly Process _process;

        private StandaloneRedis(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<StandaloneRedis> StartAsync(string directory)
        {
            int port;
            using (var listener = new TcpListener(IPAddress.Loopback, 0))
            {
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            var psi = new ProcessStartInfo("redis-server")
            {
                ArgumentList = { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--dbfilename", "dump.rdb", "--save", string.Empty, "--appendonly", "no" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new StandaloneRedis(process, port);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                try
                {
                    await using var conn = await RespConnection.ConnectAsync("127.0.0.1", port, null, null, default);
                    if ((await conn.SendAsync(["PING"], default)).AsText() == "PONG")
                    {
                        return server;
                    }
                }
                catch (Exception ex) when (ex is SocketException or IOException or RespException)
                {
                }

                await Task.Delay(50);
            }

            await server.DisposeAsync();
            throw new TimeoutException($"redis-server on {directory} did not load within 20 s");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                Processes.Kill(_process.Id, 9);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}

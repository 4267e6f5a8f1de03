using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Broker;

/// <summary>
/// What an operator does by hand with the stock tools, as the same unprivileged user Steward runs
/// instances as: initdb + postgres, or redis-server, then poll until a client gets an answer.
/// </summary>
internal sealed class Baseline : IDisposable
{
    public const string PgBin = "/usr/lib/postgresql/15/bin";
    public const string RedisServer = "/usr/bin/redis-server";
    private const string ServiceUser = "steward";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(15);
    private readonly string _root;

    public Baseline()
    {
        _root = Path.Combine(Path.GetTempPath(), "steward-bench-baseline-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Gives the scratch directory to the service user (when running as root).</summary>
    public async Task PrepareAsync(CancellationToken ct)
    {
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", [$"{ServiceUser}:{ServiceUser}", _root], ct);
        }
    }

    public sealed record Result(Stats Usable, Stats Init, Stats Start, Stats Gone);

    public async Task<Result> PostgreSqlAsync(int instances, CancellationToken ct)
    {
        await PostgreSqlOneAsync(-1, ct);
        var usable = new List<double>();
        var init = new List<double>();
        var start = new List<double>();
        var gone = new List<double>();
        for (var i = 0; i < instances; i++)
        {
            var (u, n, g) = await PostgreSqlOneAsync(i, ct);
            usable.Add(u);
            init.Add(n);
            start.Add(u - n);
            gone.Add(g);
            Console.WriteLine($"  baseline postgresql #{i:00}: initdb {n,7:F1} ms, usable {u,7:F1} ms, stopped and removed {g,7:F1} ms");
        }

        return new Result(Stats.Of(usable), Stats.Of(init), Stats.Of(start), Stats.Of(gone));
    }

    public async Task<Result> RedisAsync(int instances, CancellationToken ct)
    {
        await RedisOneAsync(-1, ct);
        var usable = new List<double>();
        var gone = new List<double>();
        for (var i = 0; i < instances; i++)
        {
            var (u, g) = await RedisOneAsync(i, ct);
            usable.Add(u);
            gone.Add(g);
            Console.WriteLine($"  baseline redis #{i:00}: usable {u,7:F1} ms, stopped and removed {g,7:F1} ms");
        }

        return new Result(Stats.Of(usable), Stats.Of([]), Stats.Of(usable), Stats.Of(gone));
    }

    public void Dispose()
    {
        Processes.KillAllUnder(_root);
        Directory.Delete(_root, recursive: true);
    }

    private async Task<(double Usable, double Init, double Gone)> PostgreSqlOneAsync(int n, CancellationToken ct)
    {
        var dir = Path.Combine(_root, $"pg-{n}");
        var pwfile = Path.Combine(_root, $"pw-{n}");
        var password = Guid.NewGuid().ToString("N");

        // Readable by the service user; the directory around it is theirs alone (0700).
        await File.WriteAllTextAsync(pwfile, password, ct);
        File.SetUnixFileMode(pwfile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var port = FreePort();

        var clock = Stopwatch.StartNew();
        var initdb = AsServiceUser(Path.Combine(PgBin, "initdb"), ["-D", dir, "-U", "admin", "--auth=scram-sha-256", $"--pwfile={pwfile}", "--no-locale", "-E", "UTF8"]);
        await RunAsync(initdb.File, initdb.Args, ct);
        var init = clock.Elapsed.TotalMilliseconds;
        using var server = Spawn(AsServiceUser(Path.Combine(PgBin, "postgres"), ["-D", dir, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]));
        await UntilAsync(server, c => Probes.SelectOneAsync("127.0.0.1", port, "admin", password, "postgres", c), ct);
        var usable = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        await StopAsync(server, signal: 2); // SIGINT: fast shutdown
        Directory.Delete(dir, recursive: true);
        var gone = clock.Elapsed.TotalMilliseconds;
        File.Delete(pwfile);
        return (usable, init, gone);
    }

    private async Task<(double Usable, double Gone)> RedisOneAsync(int n, CancellationToken ct)
    {
        // Redis's working directory, as it is Steward's instance's data directory.
        var dir = Path.Combine(_root, $"redis-{n}");
        Directory.CreateDirectory(dir);
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", [$"{ServiceUser}:{ServiceUser}", dir], ct);
        }

        var port = FreePort();
        var clock = Stopwatch.StartNew();
        using var server = Spawn(AsServiceUser(RedisServer, ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", ""]), dir);
        await UntilAsync(server, c => Probes.PingAsync("127.0.0.1", port, null, null, c), ct);
        var usable = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        await StopAsync(server, signal: 15);
        Directory.Delete(dir, recursive: true);
        return (usable, clock.Elapsed.TotalMilliseconds);
    }

    private static async Task UntilAsync(Process server, Func<CancellationToken, Task> probe, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await probe(ct);
                return;
            }
            catch (Exception ex) when (ex is SocketException or IOException or Npgsql.NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
            {
                if (server.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new InvalidOperationException($"baseline server never answered: {ex.Message}", ex);
                }
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    private static (string File, IReadOnlyList<string> Args) AsServiceUser(string file, IReadOnlyList<string> args) =>
        Environment.IsPrivilegedProcess
            ? ("setpriv", [$"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--clear-groups", file, .. args])
            : (file, args);

    private Process Spawn((string File, IReadOnlyList<string> Args) command, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(command.File) { WorkingDirectory = workingDirectory ?? _root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private async Task RunAsync(string file, IReadOnlyList<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = _root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        _ = await stdout;
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {p.ExitCode}: {await stderr}");
        }
    }

    private static async Task StopAsync(Process server, int signal)
    {
        Processes.Kill(server.Id, signal);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await server.WaitForExitAsync(timeout.Token);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

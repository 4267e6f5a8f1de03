using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Steward.Server.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for the state-store tests, as an operator would run it: its own cluster on a free loopback
/// port, password (SCRAM) authentication, run as the unprivileged <c>steward</c> user when the tests run as root
/// (PostgreSQL refuses root). Each test takes a fresh database with <see cref="CreateDatabaseAsync"/>. Disposing it
/// stops the server by its process id and removes the cluster.
/// </summary>
public sealed class StatePostgres : IAsyncLifetime
{
    private const string User = "steward_state";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "steward-tests", "state-pg-" + Guid.NewGuid().ToString("N")[..8]);
    private Process? _server;

    public int Port { get; private set; }

    /// <summary>The state user's password: tests check that it shows up nowhere.</summary>
    public string Password { get; } = "pw-" + Guid.NewGuid().ToString("N");

    private string DataDir => Path.Combine(_root, "data");

    /// <summary>A new empty database; returns its <c>postgresql://</c> URI (password included, as an operator would set it).</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "state_" + Guid.NewGuid().ToString("N")[..10];
        await using var conn = new NpgsqlConnection(ConnectionString("postgres"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name} OWNER {User}", conn);
        await cmd.ExecuteNonQueryAsync();
        return Uri(name);
    }

    /// <summary>The URI of <paramref name="database"/> with <paramref name="password"/> (the right one unless given).</summary>
    public string Uri(string database, string? password = null) => $"postgresql://{User}:{password ?? Password}@127.0.0.1:{Port}/{database}";

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username={User};Password={Password};Database={database};Pooling=false";

    public async Task InitializeAsync()
    {
        if (!File.Exists("/usr/local/bin/initdb") && FindOnPath("initdb") is null)
        {
            throw new InvalidOperationException("PostgreSQL's initdb is not installed; scripts/install-deps.sh installs it");
        }

        Directory.CreateDirectory(_root);
        var passwordFile = Path.Combine(_root, "pw");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        if (Environment.IsPrivilegedProcess)
        {
            await Processes.RunAsync("chown", "-R", "steward:steward", _root);
        }

        await Processes.RunAsync(Wrap("initdb"), [.. WrapArgs("initdb"), "-D", DataDir, "-U", User, "--auth=scram-sha-256", "--pwfile", passwordFile, "-E", "UTF8", "--no-sync"]);
        File.Delete(passwordFile);
        Port = FreePort();
        var psi = new ProcessStartInfo(Wrap("postgres")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in (string[])[.. WrapArgs("postgres"), "-D", DataDir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={_root}", "-c", "fsync=off", "-c", "max_connections=200"])
        {
            psi.ArgumentList.Add(a);
        }

        _server = Process.Start(psi)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var conn = new NpgsqlConnection(ConnectionString("postgres"));
                await conn.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (clock.Elapsed < TimeSpan.FromSeconds(60) && !_server.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is { HasExited: false } p)
        {
            // SIGQUIT: immediate shutdown; the cluster is thrown away.
            Processes.Kill(p.Id, 3);
            await p.WaitForExitAsync();
        }

        Processes.KillAllUnder(_root);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Wrap(string tool) => Environment.IsPrivilegedProcess ? "setpriv" : tool;

    private static string[] WrapArgs(string tool) => Environment.IsPrivilegedProcess ? ["--reuid", "steward", "--regid", "steward", "--clear-groups", tool] : [];

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition("state-postgres")]
public sealed class StatePostgresCollection : ICollectionFixture<StatePostgres>;

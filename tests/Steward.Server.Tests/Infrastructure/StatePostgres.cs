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
        var bin = BinDir() ?? throw new InvalidOperationException(
            "PostgreSQL's server binaries (initdb, postgres) are not installed: scripts/install-deps.sh installs them, or set STEWARD_POSTGRESQL_BIN_DIR");

        Directory.CreateDirectory(_root);
        var passwordFile = Path.Combine(_root, "pw");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        if (Environment.IsPrivilegedProcess)
        {
            await Processes.RunAsync("chown", "-R", "steward:steward", _root);
        }

        await Processes.RunAsync(Wrap(bin, "initdb"), [.. WrapArgs(bin, "initdb"), "-D", DataDir, "-U", User, "--auth=scram-sha-256", "--pwfile", passwordFile, "-E", "UTF8", "--no-sync"]);
        File.Delete(passwordFile);
        Port = FreePort();
        var psi = new ProcessStartInfo(Wrap(bin, "postgres")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in (string[])[.. WrapArgs(bin, "postgres"), "-D", DataDir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={_root}", "-c", "fsync=off", "-c", "max_connections=200"])
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

    private static string Wrap(string bin, string tool) => Environment.IsPrivilegedProcess ? "setpriv" : Path.Combine(bin, tool);

    private static string[] WrapArgs(string bin, string tool) =>
        Environment.IsPrivilegedProcess ? ["--reuid", "steward", "--regid", "steward", "--clear-groups", Path.Combine(bin, tool)] : [];

    /// <summary>Where the broker looks too: STEWARD_POSTGRESQL_BIN_DIR, else Debian's newest /usr/lib/postgresql/N/bin, else PATH.</summary>
    private static string? BinDir()
    {
        if (Environment.GetEnvironmentVariable("STEWARD_POSTGRESQL_BIN_DIR") is { Length: > 0 } configured)
        {
            return configured;
        }

        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1, Bin: Path.Combine(d, "bin")))
                .Where(d => File.Exists(Path.Combine(d.Bin, "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Bin)
                .FirstOrDefault()
            : null;
        return debian ?? (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition("state-postgres")]
public sealed class StatePostgresCollection : ICollectionFixture<StatePostgres>;

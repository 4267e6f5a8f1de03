using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Steward.Server.Tests.Infrastructure;

/// <summary>
/// A real steward-server process on a free loopback port with its own data directory and instance port
/// range. Tests can kill it with SIGKILL and start it again on the same data. Disposing it kills the
/// broker and every process left under its directory, by process id, and removes the directory.
/// </summary>
public sealed class StewardServer : IAsyncDisposable
{
    /// <summary>The build output's broker; benchmarks point <c>STEWARD_TEST_SERVER_DLL</c> at the published one (bench/Shared/PublishedBroker.cs).</summary>
    private static readonly string ServerDll = Environment.GetEnvironmentVariable("STEWARD_TEST_SERVER_DLL") is { Length: > 0 } published
        ? published
        : Path.Combine(AppContext.BaseDirectory, "steward-server.dll");
    /// <summary>
    /// Instance port blocks of 100 that no running test broker holds, outside the kernel's ephemeral range
    /// (32768-60999, where outgoing connections could take a port between the broker's check and the server's bind)
    /// and outside the default 20000-29999 that brokers of other test projects use.
    /// </summary>
    private static readonly HashSet<int> Blocks = [];

    private readonly int _block;

    private readonly IReadOnlyDictionary<string, string> _environment;
    private Process? _process;

    private StewardServer(IReadOnlyDictionary<string, string>? environment)
    {
        _environment = environment ?? new Dictionary<string, string>();
        Root = Path.Combine(Path.GetTempPath(), "steward-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);

        // Instances run as an unprivileged user when tests run as root; it must be able to enter the tree.
        File.SetUnixFileMode(Path.GetDirectoryName(Root)!, (UnixFileMode)0b111_001_001 | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_001_001);
        Port = FreePort();
        _block = TakeBlock();
        PortRange = $"{_block}-{_block + 99}";
        Password = Guid.NewGuid().ToString("N");
        Http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(120) };
        Client = new OsbClient(Http, Username, Password);
    }

    public string Root { get; }

    private static int TakeBlock()
    {
        // Outside the kernel's ephemeral range (32768-60999) and the broker's default (20000-29999), and clear of a
        // local Kubernetes cluster's ports (kubelet and friends 10248-10259, etcd 12379-12380, NodePorts 30000-32767).
        int[] all = [.. Enumerable.Range(0, 100).Select(i => 10000 + (i * 100)).Where(b => b is not 10200 and not 12300), .. Enumerable.Range(0, 45).Select(i => 61000 + (i * 100))];
        lock (Blocks)
        {
            var free = all.Where(b => !Blocks.Contains(b)).ToList();
            var block = free.Count > 0 ? free[Random.Shared.Next(free.Count)] : all[Random.Shared.Next(all.Length)];
            Blocks.Add(block);
            return block;
        }
    }

    public string DataDir => Path.Combine(Root, "data");

    public int Port { get; }

    public string PortRange { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public string Username => "platform";

    public string Password { get; }

    public HttpClient Http { get; }

    public OsbClient Client { get; }

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Everything the broker printed.</summary>
    public string Log => File.Exists(LogFile) ? File.ReadAllText(LogFile) : string.Empty;

    private string LogFile => Path.Combine(Root, "broker.log");

    /// <summary>
    /// Starts a broker; <paramref name="environment"/> adds STEWARD_* settings (e.g. short supervision budgets). A
    /// <paramref name="standby"/> broker (one that shares a PostgreSQL store with an active one) is waited for until it
    /// answers its index, since it refuses the catalog.
    /// </summary>
    public static async Task<StewardServer> StartAsync(IReadOnlyDictionary<string, string>? environment = null, bool standby = false)
    {
        var server = new StewardServer(environment);
        await server.StartProcessAsync(standby: standby);
        return server;
    }

    /// <summary>Starts the broker process; <paramref name="overrides"/> replace settings for this start only (e.g. a missing binary directory).</summary>
    public async Task StartProcessAsync(IReadOnlyDictionary<string, string>? overrides = null, bool standby = false)
    {
        if (!File.Exists(ServerDll))
        {
            throw new InvalidOperationException($"{ServerDll} is missing; build the solution first");
        }

        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { ServerDll },
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["STEWARD_DATA_DIR"] = DataDir;
        psi.Environment["STEWARD_LISTEN"] = Url;
        psi.Environment["STEWARD_PORT_RANGE"] = PortRange;
        psi.Environment["STEWARD_BROKER_USERNAME"] = Username;
        psi.Environment["STEWARD_BROKER_PASSWORD"] = Password;

        // The warm pool costs initdb runs in the background: off unless a test asks for it (the shared broker does).
        psi.Environment["STEWARD_POOL_POSTGRESQL_SIZE"] = "0";
        foreach (var (k, v) in _environment.Concat(overrides ?? new Dictionary<string, string>()))
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        var log = new StreamWriter(File.Open(LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

        // The log closes when both pipes reach their end, not when the broker exits: the data service processes it
        // started inherit its stdout and stderr, so lines still arrive after a kill -9 (closing on Exited made a late
        // line write to a disposed writer, an unhandled exception that aborted the whole test host).
        var gate = new object();
        var open = 2;
        void Append(string? line)
        {
            lock (gate)
            {
                if (open == 0)
                {
                    return;
                }

                if (line is not null)
                {
                    log.WriteLine(line);
                }
                else if (--open == 0)
                {
                    log.Dispose();
                }
            }
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // A broker starts in about a second; on a saturated 2-core machine (several test hosts JIT-compiling brokers at
        // once) it has been seen to take over 30 s, so the bound is generous: a broker that never answers still fails.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"steward-server exited with {process.ExitCode}:\n{Log}");
            }

            try
            {
                var reply = await Client.SendAsync(HttpMethod.Get, standby ? "/" : "/v2/catalog");
                if (reply.Status == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        // A broker that never answered is killed here, not left running beside the next test.
        await KillAsync();
        throw new TimeoutException($"steward-server did not answer within 90 s:\n{Log}");
    }

    /// <summary>kill -9 the broker: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            Processes.Kill(p.Id, 9);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM: the broker shuts down gracefully.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            Processes.Kill(p.Id, 15);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>Where the warm pool keeps its entries' files.</summary>
    public string PoolDir => Path.Combine(DataDir, "pool");

    /// <summary>The instance directories currently on disk.</summary>
    public IReadOnlyList<string> InstanceDirectories()
    {
        var dir = Path.Combine(DataDir, "instances");
        return Directory.Exists(dir) ? Directory.GetDirectories(dir) : [];
    }

    /// <summary>Command lines of data service processes running for this broker.</summary>
    public IReadOnlyList<string> ServerProcesses() =>
        Processes.CommandLinesUnder(Path.Combine(DataDir, "instances")).Where(c => !c.Contains("steward-shim", StringComparison.Ordinal)).ToList();

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Processes.KillAllUnder(Root);
        lock (Blocks)
        {
            Blocks.Remove(_block);
        }

        Http.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Ha;

/// <summary>
/// The established tool on the same machine: Debian's Patroni (3 nodes, each a patroni daemon and its PostgreSQL
/// 15, run as the service user) with one etcd (Debian's etcd-server, v3 API), synchronous mode on (one
/// synchronous standby, Patroni fails over only to it). Clients use the multi-host URI with
/// <c>target_session_attrs=read-write</c>, Patroni's documented way without a proxy.
/// </summary>
internal sealed class PatroniCluster : IAsyncDisposable
{
    private const string User = "steward";
    private const string Password = "bench-superuser-pw";
    private readonly string _root;
    private readonly List<Process> _processes = [];
    private readonly int _etcdPort;

    private PatroniCluster(string root, string name, int etcdPort, IReadOnlyList<Node> nodes)
    {
        _root = root;
        Name = name;
        _etcdPort = etcdPort;
        Nodes = nodes;
    }

    public string Name { get; }

    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>Npgsql connection string over every node, read-write only (libpq's multi-host URI).</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = string.Join(",", Nodes.Select(n => $"127.0.0.1:{n.PgPort}")),
        Username = "postgres",
        Password = Password,
        Database = "postgres",
        TargetSessionAttributes = "read-write",
        Pooling = false,
        Timeout = 3,
        CommandTimeout = 10,
    }.ConnectionString;

    /// <summary>One Patroni node: its daemon, its PostgreSQL data directory, its ports.</summary>
    public sealed record Node(string Name, string Directory, int PgPort, int RestPort)
    {
        public Process? Patroni { get; set; }
    }

    /// <summary>Starts etcd and three Patroni nodes with the given DCS timing and waits for a leader and two streaming replicas.</summary>
    public static async Task<PatroniCluster> StartAsync(string name, int ttl, int loopWait, int retryTimeout, CancellationToken ct)
    {
        var root = Path.Combine(Path.GetTempPath(), $"bench-patroni-{name}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(root);
        Chown(root);
        var etcdPort = FreePort();
        var nodes = Enumerable.Range(1, 3).Select(i => new Node($"node{i}", Path.Combine(root, $"node{i}"), FreePort(), FreePort())).ToList();
        var cluster = new PatroniCluster(root, name, etcdPort, nodes);
        var etcdDir = Path.Combine(root, "etcd");
        Directory.CreateDirectory(etcdDir);
        var peer = $"http://127.0.0.1:{FreePort()}";
        try
        {
            cluster.Spawn("etcd", ["--name", "bench", "--data-dir", etcdDir, "--listen-client-urls", $"http://127.0.0.1:{etcdPort}", "--advertise-client-urls", $"http://127.0.0.1:{etcdPort}",
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"bench={peer}", "--logger", "zap"], etcdDir, asServiceUser: false, log: Path.Combine(root, "etcd.log"));
            foreach (var node in nodes)
            {
                Directory.CreateDirectory(node.Directory);
                await File.WriteAllTextAsync(Path.Combine(node.Directory, "patroni.yml"), cluster.Config(node, ttl, loopWait, retryTimeout), ct);
                Chown(node.Directory);
                cluster.StartNode(node);
            }

            await cluster.WaitHealthyAsync(TimeSpan.FromSeconds(300), ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public void StartNode(Node node) =>
        node.Patroni = Spawn("patroni", [Path.Combine(node.Directory, "patroni.yml")], node.Directory, asServiceUser: true, log: Path.Combine(node.Directory, "patroni.log"));

    /// <summary>The cluster as Patroni's REST API reports it (GET /cluster on any answering node).</summary>
    public async Task<JsonElement?> ClusterAsync(CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        foreach (var node in Nodes)
        {
            try
            {
                return JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{node.RestPort}/cluster", ct)).RootElement.Clone();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
            }
        }

        return null;
    }

    public async Task<Node> LeaderAsync(CancellationToken ct)
    {
        var cluster = await ClusterAsync(ct) ?? throw new InvalidOperationException("no Patroni node answers");
        var leader = cluster.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "leader").GetProperty("name").GetString();
        return Nodes.Single(n => n.Name == leader);
    }

    /// <summary>A leader and two replicas that stream with a known lag, a synchronous one among them.</summary>
    public async Task WaitHealthyAsync(TimeSpan within, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        string last = "no answer";
        while (clock.Elapsed < within)
        {
            if (await ClusterAsync(ct) is { } cluster)
            {
                var members = cluster.GetProperty("members").EnumerateArray().ToList();
                last = string.Join("; ", members.Select(m => $"{m.GetProperty("name").GetString()} {m.GetProperty("role").GetString()} {m.GetProperty("state").GetString()}"));
                var leaders = members.Count(m => m.GetProperty("role").GetString() == "leader" && m.GetProperty("state").GetString() == "running");
                var replicas = members.Count(m => m.GetProperty("role").GetString() is "replica" or "sync_standby"
                    && m.GetProperty("state").GetString() is "running" or "streaming"
                    && m.TryGetProperty("lag", out var lag) && lag.ValueKind == JsonValueKind.Number);
                var sync = members.Any(m => m.GetProperty("role").GetString() == "sync_standby");
                if (leaders == 1 && replicas == 2 && sync)
                {
                    return;
                }
            }

            await Task.Delay(250, ct);
        }

        throw new TimeoutException($"Patroni cluster {Name} not healthy within {within.TotalSeconds:0} s: {last}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            foreach (var pid in Processes.Under(node.Directory))
            {
                Processes.Kill(pid, 18);
                Processes.Kill(pid, 9);
            }
        }

        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }

                await p.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
            }

            p.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Config(Node node, int ttl, int loopWait, int retryTimeout) => string.Create(CultureInfo.InvariantCulture, $"""
        scope: {Name}
        name: {node.Name}
        restapi:
          listen: 127.0.0.1:{node.RestPort}
          connect_address: 127.0.0.1:{node.RestPort}
        etcd3:
          hosts: 127.0.0.1:{_etcdPort}
        bootstrap:
          dcs:
            ttl: {ttl}
            loop_wait: {loopWait}
            retry_timeout: {retryTimeout}
            maximum_lag_on_failover: 1048576
            synchronous_mode: true
            postgresql:
              use_pg_rewind: true
              parameters:
                wal_log_hints: 'on'
                max_connections: 100
          initdb:
          - encoding: UTF8
          pg_hba:
          - host replication replicator 127.0.0.1/32 scram-sha-256
          - host all all 127.0.0.1/32 scram-sha-256
        postgresql:
          listen: 127.0.0.1:{node.PgPort}
          connect_address: 127.0.0.1:{node.PgPort}
          data_dir: {Path.Combine(node.Directory, "data")}
          bin_dir: /usr/lib/postgresql/15/bin
          pgpass: {Path.Combine(node.Directory, "pgpass")}
          authentication:
            replication:
              username: replicator
              password: bench-replication-pw
            superuser:
              username: postgres
              password: {Password}
          parameters:
            unix_socket_directories: '{node.Directory}'
        """);

    private Process Spawn(string file, IReadOnlyList<string> arguments, string cwd, bool asServiceUser, string? log = null)
    {
        var psi = new ProcessStartInfo(asServiceUser ? "setpriv" : file) { WorkingDirectory = cwd, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (asServiceUser)
        {
            var uid = Id("-u");
            var gid = Id("-g");
            foreach (var a in new[] { "--reuid", uid, "--regid", gid, "--clear-groups", file })
            {
                psi.ArgumentList.Add(a);
            }
        }

        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = cwd;
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var sink = log is null ? null : new StreamWriter(log, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (process) { sink?.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (process) { sink?.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private static string Id(string flag)
    {
        using var p = Process.Start(new ProcessStartInfo("id", [flag, User]) { RedirectStandardOutput = true })!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text;
    }

    private static void Chown(string path)
    {
        using var p = Process.Start("chown", ["-R", $"{User}:{User}", path]);
        p.WaitForExit();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

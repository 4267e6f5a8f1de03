// Provision-to-usable and deprovision-to-gone with STEWARD_RUNTIME=kubernetes on the local cluster (scripts/k8s-cluster.sh)
// against the local runtime on the same machine, same broker build, same client, one run. Not a test: figures go to
// docs/benchmarks.md between the kubernetes markers (--write).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Steward.Bench;
using Steward.Engines.Redis.Resp;
using Steward.Server.Tests.Infrastructure;

var instances = 5;
string? write = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--instances": instances = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--write": write = args[++i]; break;
        default: Console.Error.WriteLine("usage: steward-bench-kubernetes [--instances N] [--write docs/benchmarks.md]"); return 2;
    }
}

PublishedBroker.Use();
using var cancel = CtrlC.Cancels();
var ct = cancel.Token;
var total = Stopwatch.StartNew();
var date = TimeProvider.System.GetUtcNow();
var repo = FindRepository();
var up = Stopwatch.StartNew();
var (code, output) = await RunAsync("bash", [Path.Combine(repo, "scripts", "k8s-cluster.sh"), "up"]);
if (code != 0)
{
    Console.Error.WriteLine($"the cluster could not be brought up:\n{output}");
    return 1;
}

var clusterUp = up.Elapsed;
var kubeconfig = (await RunAsync("bash", [Path.Combine(repo, "scripts", "k8s-cluster.sh"), "env"])).Output.Split('\n').First(l => l.StartsWith("export KUBECONFIG=", StringComparison.Ordinal))["export KUBECONFIG=".Length..].Trim();
var machine = await MachineInfo.ReadAsync(["/usr/lib/postgresql/15/bin/postgres --version", "redis-server --version", $"{Path.GetDirectoryName(kubeconfig)}/../../cache/steward-k8s/bin/kubectl version --client --short 2>/dev/null || echo kubectl"], ct);
var loadBefore = machine.LoadAverage;
Console.WriteLine($"steward-bench-kubernetes: N = {instances}, {machine.Cores} cores, load {loadBefore}, cluster up (already built) in {clusterUp.TotalSeconds:F1} s");

var ns = "steward-bench-" + Guid.NewGuid().ToString("N")[..6];
var rows = new List<(string Service, string Runtime, Series Provisioned, Series Usable, Series Gone)>();
foreach (var (runtime, env) in new[]
{
    ("local", new Dictionary<string, string>()),
    ("kubernetes", new Dictionary<string, string> { ["STEWARD_RUNTIME"] = "kubernetes", ["STEWARD_KUBERNETES_KUBECONFIG"] = kubeconfig, ["STEWARD_KUBERNETES_NAMESPACE"] = ns }),
})
{
    await using var server = await StewardServer.StartAsync(env);
    foreach (var (service, plan, name) in new[] { (Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone, "postgresql"), (Catalogs.Redis, Catalogs.RedisStandalone, "redis") })
    {
        var provisioned = new Series();
        var usable = new Series();
        var gone = new Series();
        for (var n = -1; n < instances; n++)
        {
            var id = $"bench-{name}-{runtime}-{n + 1}-{Guid.NewGuid().ToString("N")[..6]}";
            var clock = Stopwatch.StartNew();
            await server.Client.ProvisionReadyAsync(id, service, plan);
            var p = clock.Elapsed;
            var credentials = await server.Client.BindReadyAsync(id, "b-" + id, service, plan);
            await RoundTripAsync(name, credentials, ct);
            var u = clock.Elapsed;
            (await server.Client.UnbindAsync(id, "b-" + id, service, plan)).Status.ShouldBe(HttpStatusCode.OK);
            var g = Stopwatch.StartNew();
            await server.Client.DeprovisionAsync(id, service, plan);
            var reply = await server.Client.WaitAsync(id, timeoutSeconds: 300);
            reply.Status.ShouldBe(HttpStatusCode.Gone, reply.Text);
            if (n >= 0)
            {
                provisioned.Add(p); usable.Add(u); gone.Add(g.Elapsed);
            }

            Console.WriteLine($"  {runtime,-10} {name,-10} #{n + 1}: provisioned {p.TotalMilliseconds:F0} ms, usable {u.TotalMilliseconds:F0} ms, gone {g.Elapsed.TotalMilliseconds:F0} ms{(n < 0 ? " (warm-up, not counted)" : string.Empty)}");
        }

        rows.Add((name, runtime, provisioned, usable, gone));
    }
}

await RunAsync(Path.Combine(Path.GetDirectoryName(kubeconfig)!, "..", "..", "cache", "steward-k8s", "bin", "kubectl"), ["--kubeconfig", kubeconfig, "delete", "namespace", ns, "--wait=true"]);
var loadAfter = await MachineInfo.LoadAsync(ct);

var md = new StringBuilder()
    .AppendLine("<!-- kubernetes:start -->")
    .AppendLine("## Kubernetes runtime: provision-to-usable on a local cluster against the local runtime")
    .AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"Measured by `bench/Steward.Bench.Kubernetes` on {date:yyyy-MM-dd} (UTC) in {total.Elapsed.TotalMinutes:F1} min. Two real `steward-server`s from the same build, one")
    .AppendLine("after the other, each through the integration-test harness: the **local** runtime (server processes on this machine) and")
    .AppendLine("`STEWARD_RUNTIME=kubernetes` on the single-node Kubernetes 1.20 cluster of `scripts/k8s-cluster.sh` on the same machine")
    .AppendLine("(a StatefulSet, volume claim on the host-path StorageClass, ConfigMap and Service per instance; files and initdb through")
    .AppendLine("exec; docs/kubernetes.md). **provisioned** = `PUT /v2/service_instances/{id}` until `last_operation` says succeeded;")
    .AppendLine("**usable** = that plus a bind and one round trip with the returned credentials (PostgreSQL: Npgsql `SELECT 1`; Redis:")
    .AppendLine("AUTH + PING), through the Service's cluster IP on Kubernetes; **gone** = `DELETE` until `last_operation` answers 410 (on")
    .AppendLine(CultureInfo.InvariantCulture, $"Kubernetes: until nothing with the instance's label is left, volume claim included). N = {instances} per series after one unmeasured")
    .AppendLine("warm-up; nearest-rank percentiles; ratio = Kubernetes / local from the same run. The warm pool is off in both (the harness's")
    .AppendLine("default), so PostgreSQL's figures include initdb.")
    .AppendLine()
    .AppendLine("| service | runtime | provisioned p50 / max (ms) | usable p50 / max (ms) | gone p50 / max (ms) | usable ratio p50 |")
    .AppendLine("|---|---|---|---|---|---|");
foreach (var row in rows)
{
    var local = rows.First(r => r.Service == row.Service && r.Runtime == "local");
    md.AppendLine(CultureInfo.InvariantCulture, $"| {row.Service} `standalone` | {row.Runtime} | {row.Provisioned.P50:F0} / {row.Provisioned.Max:F0} | {row.Usable.P50:F0} / {row.Usable.Max:F0} | {row.Gone.P50:F0} / {row.Gone.Max:F0} | {(row.Runtime == "local" ? "1" : $"**{row.Usable.P50 / local.Usable.P50:F1}×**")} |");
}

md.AppendLine()
    .AppendLine("### Machine and reproduction")
    .AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"- {machine.Cores} cores ({machine.Cpu}), {machine.Memory} memory, {machine.Os}")
    .AppendLine(CultureInfo.InvariantCulture, $"- .NET {machine.Dotnet}; {machine.Tools}")
    .AppendLine(CultureInfo.InvariantCulture, $"- load average (1/5/15 min) before: {loadBefore}, after: {loadAfter} (other builds and test suites shared the 2 cores)")
    .AppendLine("- Reproduce (as root, from the repository root, after `dotnet build`; the cluster is brought up when missing):")
    .AppendLine()
    .AppendLine("  ```sh")
    .AppendLine(CultureInfo.InvariantCulture, $"  dotnet run -c Release --project bench/Steward.Bench.Kubernetes -- --instances {instances} --write docs/benchmarks.md")
    .AppendLine("  ```")
    .AppendLine("<!-- kubernetes:end -->");
Console.WriteLine(md.ToString());
if (write is not null)
{
    var doc = await File.ReadAllTextAsync(write, ct);
    var start = doc.IndexOf("<!-- kubernetes:start -->", StringComparison.Ordinal);
    var end = doc.IndexOf("<!-- kubernetes:end -->", StringComparison.Ordinal);
    doc = start >= 0 && end > start
        ? doc[..start] + md.ToString().TrimEnd('\n') + doc[(end + "<!-- kubernetes:end -->".Length)..]
        : doc.TrimEnd('\n') + "\n\n" + md;
    await File.WriteAllTextAsync(write, doc, ct);
}

return 0;

static async Task RoundTripAsync(string service, JsonElement credentials, CancellationToken ct)
{
    var host = credentials.GetProperty("host").GetString()!;
    var port = credentials.GetProperty("port").GetInt32();
    var user = credentials.GetProperty("username").GetString()!;
    var password = credentials.GetProperty("password").GetString()!;
    var clock = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            if (service == "postgresql")
            {
                await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder { Host = host, Port = port, Username = user, Password = password, Database = credentials.GetProperty("database").GetString(), Pooling = false, Timeout = 5 }.ConnectionString);
                await conn.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand("SELECT 1", conn);
                await cmd.ExecuteScalarAsync(ct);
            }
            else
            {
                await using var conn = await RespConnection.ConnectAsync(host, port, user, password, ct);
                (await conn.ExecuteAsync(["PING"], ct)).AsText().ShouldBe("PONG");
            }

            return;
        }
        catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            // Service routing can lag the pod by a moment (kube-proxy): a fresh client retries, as an application would.
            await Task.Delay(50, ct);
        }
    }
}

static string FindRepository()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
    {
        if (File.Exists(Path.Combine(d.FullName, "Steward.sln")))
        {
            return d.FullName;
        }
    }

    throw new InvalidOperationException("Steward.sln not found");
}

static async Task<(int Code, string Output)> RunAsync(string file, IReadOnlyList<string> arguments)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in arguments)
    {
        psi.ArgumentList.Add(a);
    }

    using var p = Process.Start(psi)!;
    var o = p.StandardOutput.ReadToEndAsync();
    var e = p.StandardError.ReadToEndAsync();
    await p.WaitForExitAsync();
    return (p.ExitCode, await o + await e);
}

internal sealed class Series
{
    private readonly List<double> _ms = [];

    public double P50 => Percentile(50);

    public double Max => _ms.Count == 0 ? 0 : _ms.Max();

    public void Add(TimeSpan t) => _ms.Add(t.TotalMilliseconds);

    private double Percentile(int p)
    {
        if (_ms.Count == 0)
        {
            return 0;
        }

        var sorted = _ms.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}

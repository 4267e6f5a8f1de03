using System.Diagnostics;
using Steward.Bench;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Steward.Backups;
using Steward.Instances;
using Steward.Security;
using Steward.Server.Tests.Infrastructure;
using Steward.State.Sqlite;
using Steward.Supervision;

// The cost of observability: /metrics with 1 000 instances in the state store (scrape time, size, broker CPU
// per scrape) beside the JSON health listing of the same instances, and the dashboard page of one instance
// with 100 backups and 100 incidents; beside them, Prometheus's own /metrics (client_golang, the exposition most
// exporters share) scraped the same way on the same machine.
// Usage: steward-bench-observability [instances] [scrapes] [--write]   (--write: rewrites its section of docs/benchmarks.md)
PublishedBroker.Use();
var write = args.Contains("--write");
args = [.. args.Where(a => a != "--write")];
var instances = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var scrapes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
var clock = Stopwatch.StartNew();
await using var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_HEALTH_INTERVAL_MS"] = "60000" });
await server.StopAsync();
var seedClock = Stopwatch.StartNew();
var store = new SqliteStateStore(Path.Combine(server.DataDir, "steward.db"), CredentialKey.LoadOrCreate(Path.Combine(server.DataDir, CredentialKey.FileName)));
await store.InitializeAsync(default);
var now = TimeProvider.System.GetUtcNow();
for (var i = 0; i < instances; i++)
{
    var id = $"bench-{i:D4}";
    // Quarantined: every series exists, and no supervisor work (1 000 servers are not started for this).
    await store.SaveInstanceAsync(new ServiceInstance
    {
        Id = id, InternalId = $"i{i:D11}", ServiceId = Catalogs.Redis, PlanId = Catalogs.RedisStandalone, AdminUser = "a", AdminPassword = "x",
        State = InstanceState.Quarantined, Port = 40000 + i, CreatedAt = now.AddDays(-2), UpdatedAt = now,
    }, default);
    for (var b = 0; b < 3; b++)
    {
        await store.SaveBackupAsync(Backup(id, b, now), default);
    }

    await store.SaveIncidentAsync(Incident(id, 0, now), default);
}

var page = "bench-page";
await store.SaveInstanceAsync(new ServiceInstance
{
    Id = page, InternalId = "ipage0000000", ServiceId = Catalogs.Redis, PlanId = Catalogs.RedisStandalone, AdminUser = "a", AdminPassword = "x",
    State = InstanceState.Quarantined, Port = 39999, CreatedAt = now.AddDays(-2), UpdatedAt = now,
}, default);
for (var b = 0; b < 100; b++)
{
    await store.SaveBackupAsync(Backup(page, b, now), default);
    await store.SaveIncidentAsync(Incident(page, b, now), default);
}

var seeded = seedClock.Elapsed;
await server.StartProcessAsync();
var pid = server.Pid!.Value;
var http = server.Http;
var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")));

async Task<(List<double> Ms, long Bytes, double Cpu, string Body)> MeasureAsync(string path, int n, AuthenticationHeaderValue? auth, HttpClient? client = null, int? process = null)
{
    client ??= http;
    var measured = process ?? pid;
    string body = string.Empty;
    for (var w = 0; w < 3; w++)
    {
        body = await GetAsync(client, path, auth);
    }

    var cpuBefore = CpuMs(measured);
    var times = new List<double>();
    for (var k = 0; k < n; k++)
    {
        var t = Stopwatch.StartNew();
        body = await GetAsync(client, path, auth);
        times.Add(t.Elapsed.TotalMilliseconds);
    }

    return (times, Encoding.UTF8.GetByteCount(body), (CpuMs(measured) - cpuBefore) / n, body);
}

var metrics = await MeasureAsync("/metrics", scrapes, basic);
var series = metrics.Body.Split('\n').Count(l => l.Length > 0 && l[0] != '#');
var perInstance = metrics.Body.Split('\n').Count(l => l.Contains("instance_id=\"bench-0001\"", StringComparison.Ordinal));
var health = await MeasureAsync("/api/v1/health", scrapes, basic);
var catalog = await MeasureAsync("/v2/catalog", scrapes, basic);

// The dashboard as a browser gets it: a login link, then the page with the session cookie.
using var link = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/instances/{page}/dashboard-links");
link.Headers.Authorization = basic;
var url = JsonDocument.Parse(await (await http.SendAsync(link)).Content.ReadAsStringAsync()).RootElement.GetProperty("url").GetString()!;
using var browserLike = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true }) { BaseAddress = new Uri(server.Url) };
(await browserLike.GetAsync(url)).StatusCode.ShouldBe(HttpStatusCode.OK);
var dashboard = await MeasureAsync($"/dashboard/instances/{page}", 30, null, browserLike);
dashboard.Body.ShouldContain("bk-");

// The reference: a Prometheus server's own /metrics, with nothing to scrape, on the same machine and client.
var promDir = Directory.CreateTempSubdirectory("steward-bench-prometheus-");
var promConfig = Path.Combine(promDir.FullName, "prometheus.yml");
File.WriteAllText(promConfig, "global:\n  scrape_interval: 1h\n");
var promPort = FreePort();
using var prometheus = Process.Start(new ProcessStartInfo("/usr/bin/prometheus", [$"--config.file={promConfig}", $"--storage.tsdb.path={Path.Combine(promDir.FullName, "data")}", $"--web.listen-address=127.0.0.1:{promPort}"])
{
    RedirectStandardError = true,
    RedirectStandardOutput = true,
})!;
prometheus.ErrorDataReceived += (_, _) => { };
prometheus.OutputDataReceived += (_, _) => { };
prometheus.BeginErrorReadLine();
prometheus.BeginOutputReadLine();
using var promHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{promPort}") };
var promReady = Stopwatch.StartNew();
while (true)
{
    try
    {
        if ((await promHttp.GetAsync("/-/ready")).IsSuccessStatusCode)
        {
            break;
        }
    }
    catch (HttpRequestException) when (promReady.Elapsed < TimeSpan.FromSeconds(60))
    {
    }

    promReady.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "prometheus did not start");
    await Task.Delay(100);
}

var reference = await MeasureAsync("/metrics", scrapes, null, promHttp, prometheus.Id);
var referenceSeries = reference.Body.Split('\n').Count(l => l.Length > 0 && l[0] != '#');
var promVersion = (await promHttp.GetStringAsync("/api/v1/status/buildinfo")).Split("\"version\":\"")[1].Split('"')[0];
prometheus.Kill();
await prometheus.WaitForExitAsync();
promDir.Delete(recursive: true);
static double P(List<double> xs, double p)
{
    var s = xs.Order().ToList();
    return s[Math.Clamp((int)Math.Ceiling(p * s.Count) - 1, 0, s.Count - 1)];
}

string Row(string what, (List<double> Ms, long Bytes, double Cpu, string Body) m, int n) =>
    string.Create(CultureInfo.InvariantCulture, $"| {what} | {n} | {P(m.Ms, 0.5):0.0} | {P(m.Ms, 0.95):0.0} | {m.Bytes / 1024.0:0} KiB | {m.Cpu:0.0} |");

var report = new StringBuilder();
report.AppendLine("<!-- observability:start -->");
report.AppendLine("## Metrics and dashboard");
report.AppendLine();
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Measured by `bench/Steward.Bench.Observability` on {now:yyyy-MM-dd} (UTC) in {clock.Elapsed.TotalMinutes:0.0} min, {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end (the machine is shared)."));
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"A real `steward-server` on a state store seeded with {instances} Redis instances (each with 3 succeeded backups and one incident; quarantined, so"));
report.AppendLine("no 1 000 servers run and every per-instance series exists) plus one instance with 100 backups and 100 incidents. Each request is");
report.AppendLine("sequential over one keep-alive connection after 3 unmeasured warm-ups; CPU = the broker's user+system time from");
report.AppendLine("`/proc/<pid>/stat` over the measured requests, divided by their number. Percentiles are nearest-rank.");
report.AppendLine();
report.AppendLine("| request | N | p50 ms | p95 ms | body | broker CPU ms / request |");
report.AppendLine("|---|---|---|---|---|---|");
report.AppendLine(Row($"`GET /metrics` ({series} series, {perInstance} for one instance)", metrics, scrapes));
report.AppendLine(Row($"`GET /api/v1/health` (JSON health of the same {instances + 1} instances)", health, scrapes));
report.AppendLine(Row("`GET /v2/catalog` (a trivial request, for scale)", catalog, scrapes));
report.AppendLine(Row("dashboard page, 100 backups + 100 incidents", dashboard, 30));
report.AppendLine(Row($"reference: Prometheus {promVersion}'s own `GET /metrics` ({referenceSeries} series)", reference, scrapes));
report.AppendLine();
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Per series, from this run: Steward {1000 * P(metrics.Ms, 0.5) / series:0.00} µs of scrape time and {1000 * metrics.Cpu / series:0.00} µs of CPU, {metrics.Bytes / (double)series:0} bytes;"));
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Prometheus's own exposition {1000 * P(reference.Ms, 0.5) / referenceSeries:0.00} µs, {1000 * reference.Cpu / referenceSeries:0.00} µs of CPU, {reference.Bytes / (double)referenceSeries:0} bytes: ratio Steward / Prometheus per series {P(metrics.Ms, 0.5) / series / (P(reference.Ms, 0.5) / referenceSeries):0.00}× time, {metrics.Cpu / series / Math.Max(1e-9, reference.Cpu / referenceSeries):0.00}× CPU."));
report.AppendLine();
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Ratios from this run: a scrape costs {P(metrics.Ms, 0.5) / P(health.Ms, 0.5):0.00}× the JSON health listing's time and {metrics.Cpu / Math.Max(0.01, health.Cpu):0.00}× its CPU while"));
report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"carrying all metrics; {metrics.Cpu / Math.Max(0.01, catalog.Cpu):0} trivial requests' worth of CPU. Seeding the store took {seeded.TotalSeconds:0} s (not measured above)."));
report.AppendLine("<!-- observability:end -->");
Console.WriteLine(report);
await server.DisposeAsync();
if (write)
{
    var root = new DirectoryInfo(AppContext.BaseDirectory);
    while (root is not null && !File.Exists(Path.Combine(root.FullName, "Steward.sln")))
    {
        root = root.Parent;
    }

    var doc = Path.Combine(root?.FullName ?? throw new InvalidOperationException("Steward.sln not found above " + AppContext.BaseDirectory), "docs", "benchmarks.md");
    var text = File.ReadAllText(doc);
    const string start = "<!-- observability:start -->", end = "<!-- observability:end -->";
    var section = report.ToString().TrimEnd('\n', '\r');
    var a = text.IndexOf(start, StringComparison.Ordinal);
    var b = text.IndexOf(end, StringComparison.Ordinal);
    text = a >= 0 && b > a ? text[..a] + section + text[(b + end.Length)..] : text.TrimEnd('\n') + "\n\n" + section + "\n";
    File.WriteAllText(doc, text);
    Console.Error.WriteLine("wrote " + doc);
}

static int FreePort()
{
    using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task<string> GetAsync(HttpClient client, string path, AuthenticationHeaderValue? auth)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, path);
    request.Headers.Authorization = auth;
    request.Headers.Add("X-Broker-API-Version", "2.17");
    using var response = await client.SendAsync(request);
    response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
    return await response.Content.ReadAsStringAsync();
}

static double CpuMs(int pid)
{
    var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
}

static BackupRecord Backup(string instance, int n, DateTimeOffset now) => new()
{
    Id = $"bk-{instance}-{n:D3}", InstanceId = instance, Service = "redis", Kind = "rdb", State = BackupState.Succeeded, Storage = "filesystem",
    Key = $"{instance}/bk-{n:D3}", PlaintextBytes = 1_000_000 + n, StoredBytes = 400_000 + n, StartedAt = now.AddHours(-n - 1), CompletedAt = now.AddHours(-n - 1).AddSeconds(3),
};

static Incident Incident(string instance, int n, DateTimeOffset now)
{
    var at = now.AddHours(-n - 1);
    var incident = new Incident
    {
        Id = $"inc-{instance}-{n:D3}", InstanceId = instance, Class = FailureClass.KilledBySignal, State = IncidentState.Resolved,
        Summary = "killed-by-signal: killed by signal 9 (SIGKILL); recovered after 1 restart(s)", Restarts = 1, OpenedAt = at, UpdatedAt = at,
        Evidence = new Dictionary<string, object?> { ["signal"] = 9, ["log_tail"] = new[] { "1:M 30 Nov 2026 00:00:00.000 * Ready to accept connections tcp" } },
    };
    return incident.With(at, "detected", "the server process ended").With(at, "restarted", "started again").With(at, "resolved", "healthy again");
}

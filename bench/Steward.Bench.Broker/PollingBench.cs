using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Steward.Bench.Broker;

/// <summary>C concurrent pollers, each looping one GET on a keep-alive connection for a fixed time.</summary>
internal sealed class PollingBench(string baseUrl, string username, string password) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    {
        BaseAddress = new Uri(baseUrl),
        Timeout = TimeSpan.FromSeconds(30),
    };

    private readonly AuthenticationHeaderValue _auth = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));

    public sealed record Result(string Path, int Pollers, long Requests, long Errors, double PerSecond, Stats Latency, int ResponseBytes);

    public async Task<Result> RunAsync(string path, int pollers, TimeSpan duration, CancellationToken ct)
    {
        // Open the connections and warm both sides up before the clock starts.
        await LoadAsync(path, pollers, TimeSpan.FromMilliseconds(500), ct);
        var wall = Stopwatch.StartNew();
        var workers = await LoadAsync(path, pollers, duration, ct);
        var elapsed = wall.Elapsed.TotalSeconds;
        var latencies = workers.SelectMany(w => w.Latencies).ToList();
        var errors = workers.Sum(w => w.Errors);
        return new Result(path, pollers, latencies.Count, errors, latencies.Count / elapsed, Stats.Of(latencies, (int)errors), workers.Max(w => w.ResponseBytes));
    }

    public void Dispose() => _http.Dispose();

    private async Task<Worker[]> LoadAsync(string path, int pollers, TimeSpan duration, CancellationToken ct)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, pollers).Select(_ => new Worker()).ToArray();
        await Task.WhenAll(workers.Select(w => Task.Run(() => PollAsync(w, path, stopAt, ct), ct)));
        return workers;
    }

    private async Task PollAsync(Worker worker, string path, long stopAt, CancellationToken ct)
    {
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            var start = Stopwatch.GetTimestamp();
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = _auth;
            request.Headers.Add("X-Broker-API-Version", "2.17");
            using var response = await _http.SendAsync(request, ct);
            worker.ResponseBytes = (await response.Content.ReadAsByteArrayAsync(ct)).Length;
            worker.Latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (!response.IsSuccessStatusCode)
            {
                worker.Errors++;
            }
        }
    }

    private sealed class Worker
    {
        public List<double> Latencies { get; } = new(capacity: 64 * 1024);

        public long Errors { get; set; }

        public int ResponseBytes { get; set; }
    }
}

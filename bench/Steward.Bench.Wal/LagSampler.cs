using System.Diagnostics;

namespace Steward.Bench.Wal;

/// <summary>
/// Archive lag per segment, from PostgreSQL's own bookkeeping: the time from a segment's <c>.ready</c> file
/// appearing in <c>pg_wal/archive_status</c> (segment complete) to its disappearing (archive_command returned 0).
/// Polled every 25 ms; a segment archived between two polls counts as half a poll.
/// </summary>
internal sealed class LagSampler(string dataDir)
{
    private const int PollMs = 25;
    private readonly List<double> _lags = [];

    public IReadOnlyList<double> Lags => _lags;

    public async Task RunAsync(CancellationToken ct)
    {
        var status = Path.Combine(dataDir, "pg_wal", "archive_status");
        var clock = Stopwatch.StartNew();
        var ready = new Dictionary<string, double>(StringComparer.Ordinal);
        var done = Directory.GetFiles(status, "*.done").Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var now = clock.Elapsed.TotalSeconds;
                var files = Directory.GetFiles(status).Select(Path.GetFileName).ToList();
                var readyNow = files.Where(f => f!.EndsWith(".ready", StringComparison.Ordinal)).Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
                foreach (var name in readyNow.Where(n => !ready.ContainsKey(n!)))
                {
                    ready[name!] = now;
                }

                foreach (var name in files.Where(f => f!.EndsWith(".done", StringComparison.Ordinal)).Select(Path.GetFileNameWithoutExtension))
                {
                    if (done.Add(name!))
                    {
                        _lags.Add(ready.Remove(name!, out var since) ? now - since : PollMs / 2000.0);
                    }
                }

                await Task.Delay(PollMs, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

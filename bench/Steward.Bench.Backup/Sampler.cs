using System.Diagnostics;

namespace Steward.Bench.Backup;

/// <summary>
/// Samples the broker every 50 ms while a backup or restore runs: its resident memory, and the CPU of its
/// helper processes (pg_basebackup, tar), remembered per pid so a helper that has exited still counts.
/// </summary>
internal sealed class Sampler : IAsyncDisposable
{
    private readonly int _pid;
    private readonly string[] _helpers;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<int, (string Command, double Seconds)> _helperCpu = [];
    private readonly List<(double At, long Rss)> _rss = [];
    private readonly Task _loop;

    public Sampler(int pid, params string[] helpers)
    {
        _pid = pid;
        _helpers = helpers;
        Start = ProcStat.Read(pid) ?? throw new InvalidOperationException($"broker {pid} is gone");
        Threads = new ThreadCpu(pid);
        _loop = Task.Run(LoopAsync);
    }

    public ProcStat Start { get; }

    public ProcStat End { get; private set; }

    /// <summary>The broker's CPU by thread over the run.</summary>
    public ThreadCpu Threads { get; }

    public IReadOnlyList<(double At, long Rss)> RssSamples => _rss;

    public long PeakRss => _rss.Count == 0 ? 0 : _rss.Max(s => s.Rss);

    /// <summary>CPU seconds of the helper processes seen, by command name.</summary>
    public IReadOnlyDictionary<string, double> HelperCpu => _helperCpu.Values.GroupBy(v => v.Command).ToDictionary(g => g.Key, g => g.Sum(v => v.Seconds));

    public double Elapsed => _clock.Elapsed.TotalSeconds;

    public long? CurrentRss
    {
        get
        {
            lock (_rss)
            {
                return _rss.Count == 0 ? null : _rss[^1].Rss;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        End = ProcStat.Read(_pid) ?? Start;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        do
        {
            if (ProcStat.Rss(_pid) is { } rss)
            {
                lock (_rss)
                {
                    _rss.Add((_clock.Elapsed.TotalSeconds, rss));
                }
            }

            Threads.Sample();
            foreach (var p in ProcStat.Descendants(_pid))
            {
                if (_helpers.Contains(p.Command))
                {
                    _helperCpu[p.Pid] = (p.Command, p.OwnSeconds);
                }
            }
        }
        while (await WaitAsync(timer));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

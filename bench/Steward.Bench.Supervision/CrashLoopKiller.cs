using System.Globalization;

namespace Steward.Bench.Supervision;

/// <summary>
/// Kills the instance's server as soon as the benchmark starts it, then every new server pid about a second after
/// it appears, like a daemon that aborts right after initializing, until disposed.
/// </summary>
internal sealed class CrashLoopKiller : IAsyncDisposable
{
    private static readonly TimeSpan Life = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<DateTimeOffset> _firstKill = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;

    public CrashLoopKiller(string directory, int firstPid)
    {
        _loop = Task.Run(() => LoopAsync(Path.Combine(directory, "run", "server.pid"), firstPid, _stop.Token));
    }

    /// <summary>Servers killed so far, the first one included.</summary>
    public int Kills { get; private set; }

    /// <summary>When the first server was killed: the injection time.</summary>
    public Task<DateTimeOffset> FirstKill => _firstKill.Task;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync(string pidFile, int firstPid, CancellationToken ct)
    {
        Signals.Send(firstPid, Signals.Kill);
        _firstKill.SetResult(TimeProvider.System.GetUtcNow());
        Kills = 1;
        var seen = new HashSet<int> { firstPid };
        while (!ct.IsCancellationRequested)
        {
            if (ReadPid(pidFile) is { } pid && seen.Add(pid))
            {
                await Task.Delay(Life, ct);
                if (Signals.Send(pid, Signals.Kill))
                {
                    Kills++;
                }
            }

            await Task.Delay(50, ct);
        }
    }

    private static int? ReadPid(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

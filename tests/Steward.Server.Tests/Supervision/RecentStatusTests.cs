using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Steward.Runtime;
using Steward.Runtime.Local;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Supervision;

/// <summary>
/// What the supervisor asks at every tick, <c>GetRecentStatus</c>, costs the local runtime no look at /proc for a server
/// whose exit it watches through a pidfd: the exit is known as it happens, and the scheduler state (stopped or not) comes
/// from a look at most a second old. The clock here is hand-driven and never moves on its own, so only the pidfd can
/// report the exit.
/// </summary>
public sealed class RecentStatusTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("recent-status-").FullName;

    public RecentStatusTests() => File.SetUnixFileMode(_root, (UnixFileMode)0b111_001_001);

    [Fact]
    public async Task An_exit_is_reported_as_it_happens_and_a_stop_at_the_next_look_at_proc()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero));
        var runtime = new LocalProcessRuntime(new LocalRuntimeOptions { InstancesRoot = Path.Combine(_root, "instances"), ServiceUser = Environment.UserName }, NullLogger<LocalProcessRuntime>.Instance, clock);
        var paths = runtime.PathsFor("i" + Guid.NewGuid().ToString("N")[..12]);
        await runtime.CreateDirectoriesAsync(paths, CancellationToken.None);
        await runtime.StartAsync(paths, new ProcessLaunch("/usr/bin/sleep", ["600"]), CancellationToken.None);
        var pid = (await UntilAsync(() => runtime.GetStatus(paths) as ProcessStatus.Running, "the server to run")).Pid;
        runtime.WatchedExits.ShouldBe(1, "the server's exit is watched through a pidfd (Linux 5.3 or later)");

        // Stopped: a full look (GetStatus, as each check makes) sees it at once; the recent status once its look is a second old.
        Processes.Kill(pid, 19);
        await UntilAsync(() => runtime.GetStatus(paths) is ProcessStatus.Running { Stopped: true } ? true : (bool?)null, "the stop to show in /proc");
        clock.Advance(TimeSpan.FromMilliseconds(900));
        runtime.GetRecentStatus(paths).ShouldBeOfType<ProcessStatus.Running>().Stopped.ShouldBeTrue("the look just made says stopped");
        Processes.Kill(pid, 18);
        runtime.GetRecentStatus(paths).ShouldBeOfType<ProcessStatus.Running>().Stopped.ShouldBeTrue("answered from memory: the last look is less than a second old");
        clock.Advance(TimeSpan.FromMilliseconds(200));
        await UntilAsync(() => runtime.GetRecentStatus(paths) is ProcessStatus.Running { Stopped: false } ? true : (bool?)null, "a look at /proc a second after the last one to see it continued");

        // Killed while the clock stands still: no look at /proc is due, so only the pidfd can tell.
        Processes.Kill(pid, 9);
        var exited = await UntilAsync(() => runtime.GetRecentStatus(paths) as ProcessStatus.Exited, "the exit to be reported without a look at /proc falling due");
        exited.Signal.ShouldBe(9);
        runtime.WatchedExits.ShouldBe(0, "the exited server's pidfd is closed");
    }

    public void Dispose()
    {
        Processes.KillAllUnder(_root);
        Directory.Delete(_root, recursive: true);
    }

    private static async Task<T> UntilAsync<T>(Func<T?> probe, string what)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), $"waited for {what}");
            await Task.Delay(20);
        }
    }

    private static async Task UntilAsync(Func<bool?> probe, string what) => await UntilAsync(() => probe() is true ? "done" : null, what);
}

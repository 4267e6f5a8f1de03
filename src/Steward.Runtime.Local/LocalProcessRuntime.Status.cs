using System.Collections.Concurrent;
using Steward.Runtime;

namespace Steward.Runtime.Local;

/// <summary>Whether an instance's server runs, and how it ended when it does not.</summary>
public sealed partial class LocalProcessRuntime
{
    /// <summary>
    /// How long <see cref="GetRecentStatus"/> answers from memory for a server whose exit is watched: a process stopped
    /// (SIGSTOP) is seen at the next look at /proc, so within this plus a supervisor tick, or at its next check.
    /// </summary>
    internal static readonly TimeSpan FullLookInterval = TimeSpan.FromSeconds(1);

    /// <summary>Servers proven to be their instance's (pid file, /proc, working directory), by run directory.</summary>
    private readonly ConcurrentDictionary<string, KnownServer> _servers = new(StringComparer.Ordinal);
    private readonly ProcessExits _exits = new();

    /// <summary>Server processes whose exit is watched through a pidfd now.</summary>
    public int WatchedExits => _exits.Count;

    /// <summary>
    /// The supervisor asks at every tick (200 ms) for every instance. A server whose exit is watched (<see cref="ProcessExits"/>)
    /// and that has not exited is answered from memory, with the state of the last look at /proc, for up to
    /// <see cref="FullLookInterval"/>; otherwise, and after that, as <see cref="GetStatus"/>.
    /// </summary>
    public ProcessStatus GetRecentStatus(InstancePaths paths) =>
        _servers.TryGetValue(paths.RunDir, out var known) && known.Exit is { Exited: false } && _time.GetElapsedTime(known.LookedAt) < FullLookInterval
            ? Running(known.Pid, known.State)
            : GetStatus(paths);

    public ProcessStatus GetStatus(InstancePaths paths)
    {
        // A server already proven to be the instance's is known by its pid and start time, which no other process can
        // share, so one read of /proc/PID/stat answers.
        if (_servers.TryGetValue(paths.RunDir, out var known) && ProcFs.Stat(known.Pid) is { } now && now.StartTicks == known.StartTicks && now.State is not ('Z' or 'X'))
        {
            known.Looked(now.State, _time.GetTimestamp());
            return Running(known.Pid, now.State);
        }

        var pid = ProcFs.ReadInt(Path.Combine(paths.RunDir, "server.pid"));
        if (Running(pid, paths) is { } running)
        {
            return running;
        }

        Forget(paths);

        var rc = ExitStatus(paths);
        if (rc is null && pid is not null && ProcFs.ReadInt(Path.Combine(paths.RunDir, "shim.pid")) is { } shim && ProcFs.IsAlive(shim))
        {
            // The server is not seen running, its shim is alive and has written no exit status: either the server just
            // ended and the shim is writing its status (milliseconds), or the first look at /proc was wrong (a server
            // that had logged "ready to accept connections" was once reported ended this way). Look again for a while
            // rather than call the end unknown, which is only true when the shim was killed too.
            var waited = _time.GetTimestamp();
            while ((rc = ExitStatus(paths)) is null && ProcFs.IsAlive(shim) && _time.GetElapsedTime(waited) < TimeSpan.FromMilliseconds(500))
            {
                if (Running(pid, paths) is { } second)
                {
                    LogSeenAgain(_logger, paths.Root, second.Pid, _time.GetElapsedTime(waited).TotalMilliseconds);
                    return second;
                }

                Thread.Sleep(5);
            }
        }

        if (rc is { } code)
        {
            return code > 128 ? new ProcessStatus.Exited(null, code - 128) : new ProcessStatus.Exited(code, null);
        }

        // A pid file without an exit status: the shim itself was killed, so the status is unknown.
        return pid is null ? new ProcessStatus.NotRunning() : new ProcessStatus.Exited(null, null);
    }

    private ProcessStatus.Running? Running(int? pid, InstancePaths paths)
    {
        if (pid is not { } p || ProcFs.Stat(p) is not { State: not ('Z' or 'X') } stat || !BelongsTo(p, paths))
        {
            return null;
        }

        var now = _time.GetTimestamp();
        if (_servers.TryGetValue(paths.RunDir, out var known) && known.Pid == p && known.StartTicks == stat.StartTicks)
        {
            known.Looked(stat.State, now);
        }
        else
        {
            var server = new KnownServer(p, stat.StartTicks, _exits.Watch(p, stat.StartTicks)) { State = stat.State, LookedAt = now };
            if (_servers.TryGetValue(paths.RunDir, out var previous) ? !_servers.TryUpdate(paths.RunDir, server, previous) : !_servers.TryAdd(paths.RunDir, server))
            {
                server.Exit?.Dispose(); // another caller recorded it meanwhile
            }
            else
            {
                previous?.Exit?.Dispose();
            }
        }

        return Running(p, stat.State);
    }

    private static ProcessStatus.Running Running(int pid, char state) =>
        new(pid) { Stopped = ProcFs.IsStopped(state), State = ProcFs.Describe(state) };

    /// <summary>The server of <paramref name="paths"/> is about to change or go: the next status is read from its files.</summary>
    private void Forget(InstancePaths paths)
    {
        if (_servers.TryRemove(paths.RunDir, out var gone))
        {
            gone.Exit?.Dispose();
        }
    }

    /// <summary>A server proven to be its instance's: pid, start time, its exit watch (null where pidfds are unavailable) and the last look at /proc.</summary>
    private sealed class KnownServer(int pid, long startTicks, ProcessExits.ExitWatch? exit)
    {
        public int Pid { get; } = pid;

        public long StartTicks { get; } = startTicks;

        public ProcessExits.ExitWatch? Exit { get; } = exit;

        public char State { get; set; }

        public long LookedAt { get; set; }

        public void Looked(char state, long at)
        {
            State = state;
            LookedAt = at;
        }
    }

    private static int? ExitStatus(InstancePaths paths) => ProcFs.ReadInt(Path.Combine(paths.RunDir, "exit.status"));
}

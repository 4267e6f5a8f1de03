using System.Collections.Concurrent;
using System.Diagnostics;
using Steward.Runtime;

namespace Steward.Runtime.Local;

/// <summary>Whether an instance's server runs, and how it ended when it does not.</summary>
public sealed partial class LocalProcessRuntime
{
    /// <summary>Servers proven to be their instance's (pid file, /proc, working directory), by run directory: pid and start time.</summary>
    private readonly ConcurrentDictionary<string, (int Pid, long StartTicks)> _servers = new(StringComparer.Ordinal);

    public ProcessStatus GetStatus(InstancePaths paths)
    {
        // The supervisor asks for every instance at every tick: a server already proven to be the instance's is
        // known by its pid and start time, which no other process can share, so one read of /proc/PID/stat answers.
        if (_servers.TryGetValue(paths.RunDir, out var known) && ProcFs.Stat(known.Pid) is { } now && now.StartTicks == known.StartTicks && now.State is not ('Z' or 'X'))
        {
            return Running(known.Pid, now.State);
        }

        var pid = ProcFs.ReadInt(Path.Combine(paths.RunDir, "server.pid"));
        if (Running(pid, paths) is { } running)
        {
            return running;
        }

        _servers.TryRemove(paths.RunDir, out _);

        var rc = ExitStatus(paths);
        if (rc is null && pid is not null && ProcFs.ReadInt(Path.Combine(paths.RunDir, "shim.pid")) is { } shim && ProcFs.IsAlive(shim))
        {
            // The server is not seen running, its shim is alive and has written no exit status: either the server just
            // ended and the shim is writing its status (milliseconds), or the first look at /proc was wrong (a server
            // that had logged "ready to accept connections" was once reported ended this way). Look again for a while
            // rather than call the end unknown, which is only true when the shim was killed too.
            var waited = Stopwatch.StartNew();
            while ((rc = ExitStatus(paths)) is null && ProcFs.IsAlive(shim) && waited.Elapsed < TimeSpan.FromMilliseconds(500))
            {
                if (Running(pid, paths) is { } second)
                {
                    LogSeenAgain(_logger, paths.Root, second.Pid, waited.Elapsed.TotalMilliseconds);
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

        _servers[paths.RunDir] = (p, stat.StartTicks);
        return Running(p, stat.State);
    }

    private static ProcessStatus.Running Running(int pid, char state) =>
        new(pid) { Stopped = ProcFs.IsStopped(state), State = ProcFs.Describe(state) };

    /// <summary>The server of <paramref name="paths"/> is about to change or go: the next status is read from its files.</summary>
    private void Forget(InstancePaths paths) => _servers.TryRemove(paths.RunDir, out _);

    private static int? ExitStatus(InstancePaths paths) => ProcFs.ReadInt(Path.Combine(paths.RunDir, "exit.status"));
}

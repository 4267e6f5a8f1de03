using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;

namespace Steward.Runtime.Kubernetes;

/// <summary>
/// The facts the supervisor reads about an instance, read in its pod with one exec each. A pod that cannot be reached
/// (deleted, being replaced) has no running server: its status is "ended, unknown how" until the new pod reports.
/// </summary>
public sealed partial class KubernetesRuntime
{
    /// <summary>How long a "running" answer is reused: the supervisor asks at every tick, an exec costs the cluster.</summary>
    private static readonly TimeSpan RunningFresh = TimeSpan.FromSeconds(1);

    public ProcessStatus GetStatus(InstancePaths paths)
    {
        var id = IdOf(paths.Root);
        if (_running.TryGetValue(id, out var cached) && Stopwatch.GetElapsedTime(cached.At) < RunningFresh)
        {
            return cached.Status;
        }

        var status = Await(ct => StatusAsync(id, ct), CancellationToken.None);
        if (status is ProcessStatus.Running)
        {
            _running[id] = (status, Stopwatch.GetTimestamp());
        }
        else
        {
            _running.TryRemove(id, out _);
        }

        return status;
    }

    private async Task<ProcessStatus> StatusAsync(string id, CancellationToken cancellationToken)
    {
        var run = new InstancePaths(RootFor(id)).RunDir;
        var script = $$"""
            r={{Quote(run)}}
            p=$(cat "$r/server.pid" 2>/dev/null); st=
            [ -n "$p" ] && st=$(sed -n 's/^State:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null)
            case "$st" in
              ''|Z*|X*) if [ -f "$r/exit.status" ]; then echo "exited $(cat "$r/exit.status")"; elif [ -n "$p" ]; then echo "exited pending"; else echo none; fi ;;
              *) echo "running $p $st" ;;
            esac
            """;
        string output;
        V1Pod? pod;
        try
        {
            pod = await PodAsync(id, cancellationToken);
            if (pod is null || !Started(pod, out _))
            {
                return pod is not null && ContainerOomKilled(pod) ? ContainerOomKill
                    : await StatefulSetExistsAsync(id, cancellationToken) ? new ProcessStatus.Exited(null, null) : new ProcessStatus.NotRunning();
            }

            output = await CheckedAsync(id, script, "reading the server's status", cancellationToken);
        }
        catch (Exception ex) when (Unreachable(ex))
        {
            LogUnreachable(_logger, id, ex.Message);
            return new ProcessStatus.Exited(null, null);
        }

        var words = output.Trim().Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        return words switch
        {
            ["running", var pid, var state] when int.TryParse(pid, CultureInfo.InvariantCulture, out var p) =>
                new ProcessStatus.Running(p) { Stopped = state.StartsWith('T') || state.StartsWith('t'), State = state },
            ["exited", var rc, ..] when int.TryParse(rc, CultureInfo.InvariantCulture, out var code) =>
                code > 128 ? new ProcessStatus.Exited(null, code - 128) { OomKilled = words is [_, _, "oom-kill"] } : new ProcessStatus.Exited(code, null),
            // Recorded by an instance manager that found a server without a status: one of a deleted pod, or one that
            // died with the container (the instance manager killed) when Kubernetes restarted it.
            ["exited", "unknown"] when ContainerOomKilled(pod) => ContainerOomKill,
            ["exited", ..] => new ProcessStatus.Exited(null, null),
            _ => new ProcessStatus.NotRunning(),
        };
    }

    /// <summary>A server that died with its container, which the OOM killer ended: the kernel SIGKILLs what a pod's init leaves.</summary>
    private static ProcessStatus.Exited ContainerOomKill => new(null, 9) { OomKilled = true };

    /// <summary>
    /// True when the pod's container (its instance manager, and with it the server) was ended by the OOM killer: its
    /// state now (ended, not restarted yet) or, once restarted, its last state says OOMKilled with SIGKILL's exit code.
    /// Not for a pod being deleted: its container ends because it is asked to (containerd calls every end of a container
    /// that ever saw an OOM kill in it OOMKilled, so the exit code must be SIGKILL's too).
    /// </summary>
    internal static bool ContainerOomKilled(V1Pod pod)
    {
        var container = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == Container);
        return pod.Metadata.DeletionTimestamp is null
            && (container?.State?.Terminated ?? container?.LastState?.Terminated) is { Reason: "OOMKilled", ExitCode: 137 };
    }

    public bool WasStoppedOnPurpose(InstancePaths paths) =>
        Fact(paths, $"[ -f {Quote(Path.Combine(paths.RunDir, "stop.requested"))} ] && echo yes", "") == "yes";

    public int Resume(InstancePaths paths)
    {
        // Everything of the instance that was stopped (a PostgreSQL backend, a tool), not only the server.
        var script = """
            n=0
            for d in /proc/[0-9]*; do
              q=${d#/proc/}
              [ "$q" = 1 ] && continue
              case "$(sed -n 's/^State:[[:space:]]*//p' "$d/status" 2>/dev/null)" in T*|t*) kill -CONT "$q" 2>/dev/null && n=$((n+1)) ;; esac
            done
            echo $n
            """;
        _running.TryRemove(IdOf(paths.Root), out _);
        return int.TryParse(Fact(paths, script, "0"), CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    public string? DataDirectoryProblem(InstancePaths paths)
    {
        var script = $$"""
            root={{Quote(paths.Root)}}; data={{Quote(paths.DataDir)}}
            [ -d "$root" ] || { echo "the instance directory $root is missing in its volume"; exit 0; }
            [ -d "$data" ] || { echo "the data directory $data is missing in its volume"; exit 0; }
            p=$(cat "$root/run/server.pid" 2>/dev/null)
            if [ -n "$p" ] && [ -d "/proc/$p" ]; then
              cwd=$(readlink "/proc/$p/cwd" 2>/dev/null)
              case "$cwd" in "$data"*" (deleted)") echo "the data directory $data was removed under the running server (pid $p); the directory now at that path is not the one it writes to" ;; esac
            fi
            """;

        // A pod that cannot be reached says nothing about the data: that is the process status's business.
        return Fact(paths, script, "") is { Length: > 0 } problem ? problem : null;
    }

    public string? FirstMissing(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0)
        {
            return null;
        }

        var script = "for p in " + string.Join(' ', paths.Select(Quote)) + "; do [ -e \"$p\" ] || { printf '%s' \"$p\"; exit 0; }; done";
        return Fact(new InstancePaths(RootFor(IdOf(paths[0]))), script, "") is { Length: > 0 } missing ? missing : null;
    }

    public async Task<string> CreateRescueDirectoryAsync(InstancePaths paths, string name, CancellationToken cancellationToken)
    {
        var target = Path.Combine(paths.Root, "rescued", name);
        await CreatePrivateDirectoryAsync(Path.Combine(paths.Root, "rescued"), cancellationToken);
        await CreatePrivateDirectoryAsync(target, cancellationToken);
        return target;
    }

    public IReadOnlyList<string> ServerLogSinceLastStart(InstancePaths paths, int max = 200)
    {
        var script = $$"""
            f={{Quote(paths.LogFile)}}
            [ -f "$f" ] || exit 0
            tail -c 262144 "$f" | awk -v max={{max.ToString(CultureInfo.InvariantCulture)}} '/^--- steward-shim: starting/ { n = 0; next } { l[n++] = $0 } END { s = n - max; if (s < 0) s = 0; for (i = s; i < n; i++) print l[i] }'
            """;
        return Fact(paths, script, "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }

    public long? FreeBytes(InstancePaths paths) =>
        long.TryParse(Fact(paths, $"df -P -B1 {Quote(paths.Root)} | awk 'NR == 2 {{ print $4 }}'", ""), CultureInfo.InvariantCulture, out var free) ? free : null;

    /// <summary>Unknown: the cluster's scheduler places each pod by its memory request (a pod that does not fit stays Pending).</summary>
    public long? AvailableMemoryBytes() => null;

    /// <summary>
    /// Not one count for all instances: each pod has its own memory cgroup, whose OOM kills the instance manager reads
    /// when its server starts and ends; a server the OOM killer ended says so in its own status
    /// (<see cref="ProcessStatus.Exited.OomKilled"/>).
    /// </summary>
    public long? OomKills() => null;

    /// <summary>One exec's trimmed output, or <paramref name="unknown"/> when the pod cannot be reached.</summary>
    private string Fact(InstancePaths paths, string script, string unknown)
    {
        var id = IdOf(paths.Root);
        try
        {
            return Await(
                async ct =>
                {
                    if (!await PodRunsAsync(id, ct))
                    {
                        return unknown;
                    }

                    var result = await ExecAsync(id, script, ct);
                    return result.Succeeded ? result.Output.Trim() : unknown;
                },
                CancellationToken.None);
        }
        catch (Exception ex) when (Unreachable(ex))
        {
            LogUnreachable(_logger, id, ex.Message);
            return unknown;
        }
    }

    private async Task<bool> StatefulSetExistsAsync(string id, CancellationToken cancellationToken) =>
        (await _client.AppsV1.ListNamespacedStatefulSetAsync(Namespace, fieldSelector: $"metadata.name={NameFor(id)}", cancellationToken: cancellationToken)).Items.Count > 0;
}

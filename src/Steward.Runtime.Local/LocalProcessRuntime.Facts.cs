using System.Text;

namespace Steward.Runtime.Local;

/// <summary>
/// The facts the supervisor reads about an instance, as this machine knows them: /proc, the shim's marker
/// files, the file system, the cgroup's OOM counter.
/// </summary>
public sealed partial class LocalProcessRuntime
{
    private const int SigCont = 18;
    private const string StartMarker = "--- steward-shim: starting";
    private readonly CgroupOomCounter _oom = new();

    public bool WasStoppedOnPurpose(InstancePaths paths) => File.Exists(Path.Combine(paths.RunDir, "stop.requested"));

    public int Resume(InstancePaths paths)
    {
        // The server and whatever else of the instance was stopped (a PostgreSQL backend, a tool): continuing
        // only the server could leave it waiting on a stopped child.
        var stopped = 0;
        foreach (var pid in ProcFs.ProcessesUnder(paths.Root))
        {
            if (ProcFs.State(pid) is { } state && ProcFs.IsStopped(state) && Native.Kill(pid, SigCont))
            {
                LogResumed(_logger, pid, paths.Root, ProcFs.Describe(state));
                stopped++;
            }
        }

        return stopped;
    }

    public string? DataDirectoryProblem(InstancePaths paths)
    {
        // Asked before every check of every instance: one look at the data directory when it is there.
        if (!Directory.Exists(paths.DataDir))
        {
            return Directory.Exists(paths.Root) ? $"the data directory {paths.DataDir} is missing" : $"the instance directory {paths.Root} is missing";
        }

        // Servers work inside their data directory. When it was removed and something made again at the same
        // path, the server still writes into the removed one, which nobody can reach: /proc says "(deleted)".
        // A server whose exit is watched and has not exited is known without reading its pid file and /proc/PID/stat.
        var pid = _servers.TryGetValue(paths.RunDir, out var known) && known.Exit is { Exited: false }
            ? known.Pid
            : ProcFs.ReadInt(Path.Combine(paths.RunDir, "server.pid")) is { } file && ProcFs.IsAlive(file) ? file : (int?)null;
        if (pid is not null
            && ProcFs.WorkingDirectory(pid.Value) is { } cwd && cwd.EndsWith(" (deleted)", StringComparison.Ordinal)
            && cwd.StartsWith(paths.DataDir, StringComparison.Ordinal))
        {
            return $"the data directory {paths.DataDir} was removed under the running server (pid {pid}); the directory now at that path is not the one it writes to";
        }

        return null;
    }

    public Task<string> CreateRescueDirectoryAsync(InstancePaths paths, string name, CancellationToken cancellationToken)
    {
        var rescued = Path.Combine(paths.Root, "rescued");
        var target = Path.Combine(rescued, name);
        foreach (var dir in new[] { paths.Root, rescued, target })
        {
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                File.SetUnixFileMode(dir, PrivateDir);
                Own(dir);
            }
        }

        return Task.FromResult(target);
    }

    public IReadOnlyList<string> ServerLogSinceLastStart(InstancePaths paths, int max = 200)
    {
        try
        {
            using var stream = File.OpenRead(paths.LogFile);
            stream.Seek(Math.Max(0, stream.Length - (256 * 1024)), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var start = Array.FindLastIndex(lines, l => l.StartsWith(StartMarker, StringComparison.Ordinal));
            return lines.Skip(start + 1).TakeLast(max).Select(l => l.TrimEnd('\r')).ToList();
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    public long? FreeBytes(InstancePaths paths)
    {
        try
        {
            var mount = DriveInfo.GetDrives()
                .Where(d => paths.Root.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
                .MaxBy(d => d.RootDirectory.FullName.Length);
            return mount?.AvailableFreeSpace;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public long? OomKills() => _oom.Read();

    public long? AvailableMemoryBytes()
    {
        try
        {
            // "MemAvailable:   12345678 kB": the kernel's estimate of what can be allocated without swapping.
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            var fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields is [_, var kb, "kB"] && long.TryParse(kb, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value * 1024 : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

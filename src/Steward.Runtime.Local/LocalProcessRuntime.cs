using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Steward.Security;

namespace Steward.Runtime.Local;

/// <summary>
/// Runs each instance as a real server process on this machine. The server is started in its own session
/// under a small shell shim (see steward-shim.sh) so it outlives the broker, and a restarted broker finds it
/// again through the pid file and the process's working directory.
/// </summary>
public sealed partial class LocalProcessRuntime : IInstanceRuntime
{
    private const UnixFileMode PrivateDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Traversable = PrivateDir | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode ToolSafePath = UnixFileMode.OtherExecute;

    private readonly LocalRuntimeOptions _options;
    private readonly ServiceAccount _account;
    private readonly string _shim;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public LocalProcessRuntime(LocalRuntimeOptions options, ILogger<LocalProcessRuntime> logger, TimeProvider? time = null)
    {
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _account = ServiceAccount.Resolve(options.ServiceUser);
        Directory.CreateDirectory(options.InstancesRoot);
        File.SetUnixFileMode(options.InstancesRoot, Traversable);
        EnsureReachable(Path.GetFullPath(options.InstancesRoot));
        _shim = Path.Combine(options.InstancesRoot, ".steward-shim.sh");
        using (var resource = typeof(LocalProcessRuntime).Assembly.GetManifestResourceStream("steward-shim.sh")!)
        using (var file = File.Create(_shim))
        {
            resource.CopyTo(file);
        }

        File.SetUnixFileMode(_shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>The account instances run as.</summary>
    public ServiceAccount Account => _account;

    public InstancePaths PathsFor(string internalId) => new(Path.Combine(Path.GetFullPath(_options.InstancesRoot), internalId));

    public async Task CreateDirectoriesAsync(InstancePaths paths, CancellationToken cancellationToken)
    {
        if (Directory.Exists(paths.Root))
        {
            await DeleteAsync(paths, cancellationToken);
        }

        foreach (var dir in new[] { paths.Root, paths.DataDir, paths.ConfigDir, paths.RunDir, Path.GetDirectoryName(paths.LogFile)! })
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, PrivateDir);
            Own(dir);
        }
    }

    public Task WriteFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        // Instance files include password files: created 0600 for the service user, then renamed into place.
        SecretFile.Write(path, content, Own);
        return Task.CompletedTask;
    }

    public async Task CopyFileAsync(string source, string destination, CancellationToken cancellationToken)
    {
        var partial = destination + ".copying";
        await using (var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
        await using (var to = new FileStream(partial, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite, BufferSize = 1 << 16 }))
        {
            await from.CopyToAsync(to, cancellationToken);
            to.Flush(flushToDisk: true);
        }

        Own(partial);
        File.Move(partial, destination, overwrite: true);
    }

    public FileStream CreateServerFile(string path)
    {
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        Own(path);
        return stream;
    }

    public Task<ToolResult> RunToolAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken) =>
        RunAsync(paths, fileName, arguments, environment, null, cancellationToken);

    public Task<ToolResult> RunToolWithInputAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, Func<Stream, CancellationToken, Task> input, CancellationToken cancellationToken) =>
        RunAsync(paths, fileName, arguments, null, input, cancellationToken);

    private async Task<ToolResult> RunAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment, Func<Stream, CancellationToken, Task>? input, CancellationToken cancellationToken)
    {
        var psi = StartInfo(fileName, arguments, environment);
        psi.WorkingDirectory = paths.Root;
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var incomplete = false;
        if (input is not null)
        {
            try
            {
                await input(process.StandardInput.BaseStream, cancellationToken);
            }
            catch (IOException) when (process.HasExited)
            {
                // It stopped reading and ended: its exit code and output say why, and a success is not one (below).
                incomplete = true;
            }
            catch
            {
                // Killed before its input is closed: the tool never sees a clean end of a failed input.
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                throw;
            }
        }

        try
        {
            process.StandardInput.Close();
        }
        catch (IOException) when (process.HasExited)
        {
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = (await stdout) + (await stderr);
        return incomplete && process.ExitCode == 0
            ? new ToolResult(1, output + $"{fileName} ended before reading all of its input")
            : new ToolResult(process.ExitCode, output);
    }

    public async Task StartAsync(InstancePaths paths, ProcessLaunch launch, CancellationToken cancellationToken)
    {
        if (GetStatus(paths) is ProcessStatus.Running running)
        {
            LogAlreadyRunning(_logger, paths.Root, running.Pid);
            return;
        }

        Forget(paths);
        foreach (var stale in new[] { "server.pid", "shim.pid", "exit.status", "stop.requested" })
        {
            File.Delete(Path.Combine(paths.RunDir, stale));
        }

        var args = new List<string> { _shim, paths.RunDir, paths.LogFile, paths.Root, "--", launch.FileName };
        args.AddRange(launch.Arguments);
        var psi = StartInfo("/bin/sh", args, launch.Environment);
        psi.ArgumentList.Insert(0, psi.FileName);
        psi.FileName = "setsid";
        using (var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the instance shim"))
        {
            process.StandardInput.Close();
        }

        // The shim writes the server's pid as soon as it has forked it: usually within a few milliseconds, so
        // the first checks are close together (a provision waits for this), later ones 20 ms apart.
        var pidFile = Path.Combine(paths.RunDir, "server.pid");
        var waited = Stopwatch.StartNew();
        while (!File.Exists(pidFile) && waited.Elapsed < TimeSpan.FromSeconds(2))
        {
            await Task.Delay(waited.Elapsed < TimeSpan.FromMilliseconds(200) ? 1 : 20, cancellationToken);
        }

        if (!File.Exists(pidFile))
        {
            throw new InvalidOperationException($"the server of {paths.Root} did not start (no pid file after 2 s); see {paths.LogFile}");
        }

        LogStarted(_logger, paths.Root, ProcFs.ReadInt(pidFile) ?? 0);
    }

    public async Task StopAsync(InstancePaths paths, int signal, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (Directory.Exists(paths.RunDir))
        {
            await File.WriteAllTextAsync(Path.Combine(paths.RunDir, "stop.requested"), signal.ToString(CultureInfo.InvariantCulture), cancellationToken);
        }

        if (GetStatus(paths) is ProcessStatus.Running running)
        {
            Native.Kill(running.Pid, signal);
            var deadline = Stopwatch.StartNew();
            while (ProcFs.IsAlive(running.Pid) && deadline.Elapsed < grace)
            {
                await Task.Delay(10, cancellationToken);
            }

            // Give the shim a moment to record the exit status before anything left is swept up.
            var shim = ProcFs.ReadInt(Path.Combine(paths.RunDir, "shim.pid"));
            var shimDeadline = Stopwatch.StartNew();
            while (!ProcFs.IsAlive(running.Pid) && shim is { } s && ProcFs.IsAlive(s) && shimDeadline.Elapsed < TimeSpan.FromSeconds(2))
            {
                await Task.Delay(5, cancellationToken);
            }
        }

        // Whatever is left under the instance's directory (a server that ignored the signal, orphaned
        // PostgreSQL backends, the shim) is killed, so no process outlives the stop.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var left = ProcFs.ProcessesUnder(paths.Root);
            if (left.Count == 0)
            {
                return;
            }

            if (attempt == 0 || attempt % 10 == 0)
            {
                foreach (var pid in left)
                {
                    LogKilling(_logger, pid, paths.Root);
                    Native.Kill(pid, 9);
                }
            }

            await Task.Delay(20, cancellationToken);
        }

        throw new InvalidOperationException($"processes of {paths.Root} survived SIGKILL");
    }

    public async Task DeleteAsync(InstancePaths paths, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(paths.Root))
        {
            return;
        }

        // A process that was still writing (a tool orphaned by a broker crash) can add files while the tree is
        // removed; stop everything under it and repeat until the tree is really gone.
        for (var attempt = 1; ; attempt++)
        {
            await StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
            Forget(paths);
            try
            {
                Directory.Delete(paths.Root, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 10)
            {
                await Task.Delay(100, cancellationToken);
            }

            if (!Directory.Exists(paths.Root))
            {
                return;
            }
        }
    }

    /// <summary>Preserved copies live beside the instances' directory, on the same file system, so moving one there is a rename.</summary>
    private string PreservedRoot => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_options.InstancesRoot).TrimEnd('/'))!, "preserved");

    public async Task<string> PreserveAsync(InstancePaths paths, string name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a plain name", nameof(name));
        }

        Directory.CreateDirectory(PreservedRoot);
        File.SetUnixFileMode(PreservedRoot, PrivateDir);
        var target = Path.Combine(PreservedRoot, name);
        if (!Directory.Exists(paths.Root))
        {
            // Moved by an earlier attempt, or there was nothing left to preserve: then an empty record of that.
            if (!Directory.Exists(target))
            {
                Directory.CreateDirectory(target);
                Directory.SetLastWriteTimeUtc(target, at.UtcDateTime);
            }

            return target;
        }

        // Nothing may keep running in (or writing into) the files being moved: whatever is left is stopped.
        await StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
        if (Directory.Exists(target))
        {
            // The instance's place was filled again after an earlier move: that is kept too, beside the first.
            for (var n = 2; ; n++)
            {
                var next = $"{target}+{n}";
                if (!Directory.Exists(next))
                {
                    Directory.Move(paths.Root, next);
                    Directory.SetLastWriteTimeUtc(next, at.UtcDateTime);
                    return target;
                }
            }
        }

        Directory.Move(paths.Root, target);

        // A move keeps the directory's own times; its modification time says when it was preserved (retention).
        Directory.SetLastWriteTimeUtc(target, at.UtcDateTime);
        return target;
    }

    public IReadOnlyList<(string Path, DateTimeOffset PreservedAt)> ListPreserved() =>
        !Directory.Exists(PreservedRoot)
            ? []
            : [.. Directory.EnumerateDirectories(PreservedRoot)
                .Select(d => (d, new DateTimeOffset(Directory.GetLastWriteTimeUtc(d), TimeSpan.Zero)))
                .OrderBy(p => p.Item2)];

    public Task DeletePreservedAsync(string path, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) != PreservedRoot)
        {
            throw new ArgumentException($"{path} is not a preserved copy", nameof(path));
        }

        if (Directory.Exists(full))
        {
            Directory.Delete(full, recursive: true);
        }

        return Task.CompletedTask;
    }

    public Task CreatePrivateDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, PrivateDir);
        Own(path);
        return Task.CompletedTask;
    }

    public bool IsPortFree(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        // As the servers bind (SO_REUSEADDR): connections of a server just killed, left in TIME_WAIT, do not
        // make its port "in use"; only a socket someone holds does.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool BelongsTo(int pid, InstancePaths paths)
    {
        var cwd = ProcFs.WorkingDirectory(pid);
        return cwd is null || cwd == paths.Root || cwd.StartsWith(paths.Root + "/", StringComparison.Ordinal);
    }

    private ProcessStartInfo StartInfo(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var psi = new ProcessStartInfo
        {
            FileName = fileName,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (_account.DropsPrivileges)
        {
            psi.FileName = "setpriv";
            foreach (var a in new[] { "--reuid", _account.Uid.ToString(CultureInfo.InvariantCulture), "--regid", _account.Gid.ToString(CultureInfo.InvariantCulture), "--clear-groups", fileName })
            {
                psi.ArgumentList.Add(a);
            }
        }

        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        // Instances get a clean environment: nothing of the broker's (its credentials included) leaks in.
        return ChildEnvironment.Apply(psi, environment);
    }

    private void Own(string path)
    {
        if (_account.DropsPrivileges)
        {
            Native.Chown(path, _account.Uid, _account.Gid);
        }
    }

    private void EnsureReachable(string root)
    {
        if (!_account.DropsPrivileges)
        {
            return;
        }

        for (var dir = Path.GetDirectoryName(root); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if ((File.GetUnixFileMode(dir) & ToolSafePath) == 0)
            {
                throw new InvalidOperationException(
                    $"instances under {root} cannot run as user '{_account.Name}': it cannot enter {dir} (mode {Convert.ToString((int)File.GetUnixFileMode(dir), 8)}). " +
                    "Choose a data directory such as /var/lib/steward, or allow others to enter that directory (chmod o+x).");
            }
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Started server of {Root} as pid {Pid}")]
    private static partial void LogStarted(ILogger logger, string root, int pid);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Server of {Root} already runs as pid {Pid}; adopted")]
    private static partial void LogAlreadyRunning(ILogger logger, string root, int pid);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Killing pid {Pid} left under {Root}")]
    private static partial void LogKilling(ILogger logger, int pid, string root);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Continued pid {Pid} of {Root}, found {State}")]
    private static partial void LogResumed(ILogger logger, int pid, string root, string state);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Server of {Root} (pid {Pid}) was not seen running at a first look but was {Milliseconds:F0} ms later; taken as running")]
    private static partial void LogSeenAgain(ILogger logger, string root, int pid, double milliseconds);
}

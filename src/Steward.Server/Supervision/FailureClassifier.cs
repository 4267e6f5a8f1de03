using Steward.Engines;
using Steward.Runtime;
using Steward.Server.Operations;
using Steward.Supervision;

namespace Steward.Server.Supervision;

/// <summary>
/// Decides why a server ended, before anything is done about it, from the server's own log and data
/// directory (through its engine), the file system, the kernel's OOM counter, the exit status and the port.
/// </summary>
internal sealed class FailureClassifier(IInstanceRuntime runtime)
{
    private const long DiskFullBytes = 16L * 1024 * 1024;
    private readonly OomCounter _oom = new();

    public (Diagnosis Diagnosis, Dictionary<string, object?> Evidence) ClassifyExit(IDataServiceEngine engine, EngineContext context, ProcessStatus status)
    {
        var exited = status as ProcessStatus.Exited;
        var log = ServerLog.SinceLastStart(context.Paths);
        var freeBytes = FreeBytes(context.Paths.Root);
        var oomKilled = _oom.KilledSinceLastCheck();
        var evidence = Evidence(context, log);
        evidence["exit_code"] = exited?.ExitCode;
        evidence["signal"] = exited?.Signal;
        evidence["signal_name"] = exited?.Signal is { } s ? SignalName(s) : null;
        evidence["disk_free_bytes"] = freeBytes;

        var diagnosis = engine.Diagnose(context, log)
            ?? (freeBytes is < DiskFullBytes ? new Diagnosis(FailureClass.DiskFull, $"only {freeBytes} bytes free on the file system of {context.Paths.Root}") : null)
            ?? (exited?.Signal == 9 && oomKilled ? new Diagnosis(FailureClass.OomKilled, "killed by SIGKILL while the kernel's oom_kill count rose (cgroup memory.events)") : null)
            ?? (exited?.Signal is { } signal ? new Diagnosis(FailureClass.KilledBySignal, $"killed by signal {signal} ({SignalName(signal)})") : null)
            ?? (!runtime.IsPortFree(context.Port) ? new Diagnosis(FailureClass.PortConflict, $"port {context.Port} is held by another process") : null)
            ?? new Diagnosis(FailureClass.Unknown, exited?.ExitCode is { } code ? $"exited with code {code}" : "ended with unknown status (its supervising shim was killed too)");
        return (diagnosis, evidence);
    }

    /// <summary>The evidence every incident carries: the server's recent log and what changed in its configuration.</summary>
    public static Dictionary<string, object?> Evidence(EngineContext context, IReadOnlyList<string>? log = null) => new()
    {
        ["log_tail"] = (log ?? ServerLog.SinceLastStart(context.Paths)).TakeLast(20).ToList(),
        ["config_changes_since_last_healthy_start"] = ConfigSnapshot.Diff(context.Paths),
        ["port"] = context.Port,
        ["directory"] = context.Paths.Root,
    };

    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => "signal " + signal,
    };

    private static long? FreeBytes(string path)
    {
        try
        {
            var mount = DriveInfo.GetDrives()
                .Where(d => path.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
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
}

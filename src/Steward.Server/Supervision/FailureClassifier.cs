using Steward.Engines;
using Steward.Runtime;
using Steward.Supervision;

namespace Steward.Server.Supervision;

/// <summary>
/// Decides why a server failed, before anything is done about it, from facts the runtime reports (the data
/// directory, exit status, OOM kills, free space, the port, the server's log) and what the engine reads in its
/// log and data directory.
/// </summary>
internal sealed class FailureClassifier
{
    private const long DiskFullBytes = 16L * 1024 * 1024;
    private readonly IInstanceRuntime _runtime;
    private long? _oomSeen;

    public FailureClassifier(IInstanceRuntime runtime)
    {
        _runtime = runtime;
        _oomSeen = runtime.OomKills();
    }

    /// <summary>
    /// data-corruption when the runtime finds the data directory gone (missing, or removed under the server) or
    /// the engine finds files missing that its server cannot do without (a data directory being removed); null
    /// otherwise. Cheap enough for every check.
    /// </summary>
    public Diagnosis? DataDirectory(IDataServiceEngine engine, EngineContext context) =>
        _runtime.DataDirectoryProblem(context.Paths) is { } problem
            ? new Diagnosis(FailureClass.DataCorruption, problem)
            : engine.Diagnose(context, []) is { Class: FailureClass.DataCorruption } damaged ? damaged : null;

    public (Diagnosis Diagnosis, Dictionary<string, object?> Evidence) ClassifyExit(IDataServiceEngine engine, EngineContext context, ProcessStatus status)
    {
        var exited = status as ProcessStatus.Exited;
        var log = _runtime.ServerLogSinceLastStart(context.Paths);
        var freeBytes = _runtime.FreeBytes(context.Paths);
        var oomKilled = OomKillsRose();
        var evidence = Evidence(context, log);
        evidence["exit_code"] = exited?.ExitCode;
        evidence["signal"] = exited?.Signal;
        evidence["signal_name"] = exited?.Signal is { } s ? SignalName(s) : null;
        evidence["oom_killed"] = exited?.OomKilled == true || (exited?.Signal == 9 && oomKilled);
        evidence["disk_free_bytes"] = freeBytes;

        var diagnosis = DataDirectory(engine, context)
            ?? engine.Diagnose(context, log)
            ?? (freeBytes is < DiskFullBytes ? new Diagnosis(FailureClass.DiskFull, $"only {freeBytes} bytes free on the file system of {context.Paths.Root}") : null)
            ?? (exited is { Signal: 9, OomKilled: true } ? new Diagnosis(FailureClass.OomKilled, "killed by the kernel's OOM killer, as the runtime recorded it: its memory limit was reached") : null)
            ?? (exited?.Signal == 9 && oomKilled ? new Diagnosis(FailureClass.OomKilled, "killed by SIGKILL while the kernel's count of OOM kills rose") : null)
            ?? (exited?.Signal is { } signal ? new Diagnosis(FailureClass.KilledBySignal, $"killed by signal {signal} ({SignalName(signal)})") : null)
            ?? (!_runtime.IsPortFree(context.Port) ? new Diagnosis(FailureClass.PortConflict, $"port {context.Port} is held by another process") : null)
            ?? new Diagnosis(FailureClass.Unknown, exited?.ExitCode is { } code ? $"exited with code {code}" : "ended with unknown status (its supervising shim was killed too)");
        return (diagnosis, evidence);
    }

    /// <summary>The evidence every incident carries: the server's recent log and what changed in its configuration.</summary>
    public Dictionary<string, object?> Evidence(EngineContext context, IReadOnlyList<string>? log = null) => new()
    {
        ["log_tail"] = (log ?? _runtime.ServerLogSinceLastStart(context.Paths)).TakeLast(20).ToList(),
        ["config_changes_since_last_healthy_start"] = ConfigSnapshot.Diff(_runtime, context.Paths),
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

    /// <summary>True when OOM kills happened since the last call.</summary>
    private bool OomKillsRose()
    {
        var now = _runtime.OomKills();
        if (now is null)
        {
            return false;
        }

        var rose = now > (_oomSeen ?? now);
        _oomSeen = now;
        return rose;
    }
}

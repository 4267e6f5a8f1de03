using Steward.Engines;
using Steward.Runtime;
using Steward.Server.Logging;
using Steward.Server.Operations;
using Steward.Supervision;

namespace Steward.Server.Supervision;

/// <summary>
/// Stops a failed instance without destroying the only copy of its data. A process that is merely stopped
/// is continued first; when the runtime finds the data directory gone, what the server holds is rescued
/// (through the engine) to a preserved directory while it still answers; then the server is asked to shut
/// down cleanly (Redis saves, PostgreSQL checkpoints) and only what does not stop within the grace is killed.
/// Every step is written to the incident's timeline, with what was rescued where.
/// </summary>
internal sealed class Fence(IInstanceRuntime runtime, TimeProvider time, ILogger<Fence> logger)
{
    /// <summary>How long a server has to shut down cleanly before it is killed (systemd's stop timeout is 90 s).</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>How long a rescue (SAVE of the whole dataset) may take.</summary>
    private static readonly TimeSpan RescueTimeout = TimeSpan.FromMinutes(5);

    public async Task<Incident> StopAsync(IDataServiceEngine engine, EngineContext context, Incident incident, CancellationToken cancellationToken)
    {
        var paths = context.Paths;
        if (runtime.GetStatus(paths) is not ProcessStatus.Running running)
        {
            // Nothing holds data in memory any more: sweep up what is left (orphaned backends, the shim).
            await runtime.StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
            return incident.With(time.GetUtcNow(), "stopped", "no process of the instance is left running");
        }

        if (running.Stopped)
        {
            runtime.Resume(paths);
            Log.Continued(logger, incident.InstanceId, running.Pid, running.State);
            incident = incident.With(time.GetUtcNow(), "continued", $"pid {running.Pid} was found {running.State}: continued (SIGCONT) so that it can save its data before it stops");
        }

        // Classified from the data directory before acting: a clean shutdown would save into a directory that is
        // gone or damaged, so the data the server holds is first saved somewhere it survives.
        if (incident.Class == FailureClass.DataCorruption)
        {
            var problem = incident.Evidence.TryGetValue("class_evidence", out var e) && e is string text ? text : "the data directory is damaged";
            incident = await RescueAsync(engine, context, incident, problem, cancellationToken);
        }

        var signal = engine.Launch(context).StopSignal;
        var started = time.GetTimestamp();
        await runtime.StopAsync(paths, signal, StopGrace, cancellationToken);
        var took = time.GetElapsedTime(started);
        var after = runtime.GetStatus(paths);
        var detail = after is ProcessStatus.Exited { ExitCode: 0 }
            ? $"pid {running.Pid} shut down cleanly on {FailureClassifier.SignalName(signal)} in {took.TotalSeconds:0.0} s (the server saved its data as it stopped); no process of the instance is left running"
            : $"pid {running.Pid} did not shut down cleanly within {StopGrace.TotalSeconds:0} s of {FailureClassifier.SignalName(signal)} ({ServerLog.Describe(after)}): what was left was killed; no process of the instance is left running";
        return incident.With(time.GetUtcNow(), "stopped", detail);
    }

    private async Task<Incident> RescueAsync(IDataServiceEngine engine, EngineContext context, Incident incident, string problem, CancellationToken cancellationToken)
    {
        if (engine is not IDataRescue rescue)
        {
            var reason = $"{problem}; {engine.Offering.Name} cannot save a running server's data outside its data directory, so nothing could be rescued";
            Log.RescueFailed(logger, incident.InstanceId, reason);
            return incident.With(time.GetUtcNow(), "not-rescued", reason);
        }

        try
        {
            var directory = await runtime.CreateRescueDirectoryAsync(context.Paths, incident.Id, cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RescueTimeout);
            var what = await rescue.RescueAsync(context, directory, timeout.Token);
            Log.Rescued(logger, incident.InstanceId, what);
            return incident.With(time.GetUtcNow(), "rescued", what) with
            {
                Evidence = new Dictionary<string, object?>(incident.Evidence) { ["rescued_to"] = directory },
            };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException ? $"no answer within {RescueTimeout.TotalMinutes:0} min" : ex.Message;
            Log.RescueFailed(logger, incident.InstanceId, reason);
            return incident.With(time.GetUtcNow(), "rescue-failed", $"{problem}; saving the server's data elsewhere failed: {reason}");
        }
    }
}

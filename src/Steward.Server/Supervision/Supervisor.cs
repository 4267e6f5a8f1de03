using System.Collections.Concurrent;
using System.Globalization;
using Steward.Catalog;
using Steward.Engines;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Security;
using Steward.Server.Configuration;
using Steward.Server.Logging;
using Steward.Server.Operations;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Supervision;

/// <summary>
/// Watches every ready instance at the protocol level and acts with judgement when one fails: the failure
/// is classified before anything is done; a stopped process is continued, never killed; a server whose data
/// directory is gone has its data rescued before it is fenced (<see cref="Fence"/>); classes a restart cannot
/// fix are fenced and preserved at once; others are restarted within a budget that flapping cannot reset;
/// every failure is a durable incident. It never acts on an instance while an operation holds it. Every fact
/// about processes and files comes from the instance runtime.
/// </summary>
internal sealed partial class Supervisor(
    IStateStore store,
    InstanceIndex index,
    EngineRegistry engines,
    InstanceLocks locks,
    OperationsInFlight operations,
    FailureClassifier classifier,
    Fence fence,
    HealthRegistry health,
    StewardOptions options,
    TimeProvider time,
    ILogger<Supervisor> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, InstanceWatch> _watches = new();
    private readonly ConcurrentDictionary<Task, byte> _checks = new();

    private IInstanceRuntime Runtime => engines.Runtime;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await PeriodicLoop.RunAsync(TickAsync, options.SupervisorTick, time, ex => Log.SupervisionFailed(logger, "*", ex), stoppingToken);
        await Task.WhenAll(_checks.Keys);
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Interlocked.Increment(ref _ticks);
        var seen = new HashSet<string>();
        foreach (var instance in await index.ListAsync(cancellationToken))
        {
            seen.Add(instance.Id);
            if (instance.State == InstanceState.Quarantined)
            {
                _watches.TryRemove(instance.Id, out _);
                health.Set(new InstanceHealth(instance.Id, HealthStatus.Failed, health.Get(instance.Id)?.LastCheck, "quarantined: stopped and preserved for inspection; rebuild or delete it"));
                continue;
            }

            if (instance.State != InstanceState.Ready || engines.HighlyAvailable(instance))
            {
                continue; // highly available instances are the HaController's
            }

            if (engines.Unavailable(instance.ServiceId) is { } unavailable)
            {
                _watches.TryRemove(instance.Id, out _);
                health.Set(new InstanceHealth(instance.Id, HealthStatus.Unknown, null, $"not supervised: {unavailable}"));
                continue;
            }

            var watch = _watches.GetOrAdd(instance.Id, _ => new InstanceWatch(options.Supervision.Apply(engines.Plan(instance.ServiceId, instance.PlanId).HealthCheck), time)
            {
                NextCheck = now,
                Health = new InstanceHealth(instance.Id, HealthStatus.Unknown, null, "not checked yet"),
            });
            // Between protocol checks, a server that died is noticed at the next tick, one that was stopped within about a
            // second (GetRecentStatus): whether its process runs is far cheaper to ask the runtime than a check.
            if (now < watch.NextCheck && watch.RestartDue is null
                && Runtime.GetRecentStatus(Runtime.PathsFor(instance.InternalId)) is not ProcessStatus.Running { Stopped: false })
            {
                watch.NextCheck = now;
            }

            if (now < watch.NextCheck || Interlocked.CompareExchange(ref watch.Busy, 1, 0) != 0)
            {
                continue;
            }

            // Until a restarted server passes its first check, it is checked often: it is expected back any moment.
            watch.NextCheck = now + (watch.AwaitingFirstHealthy ? TimeSpan.FromMilliseconds(Math.Min(500, watch.Policy.Interval.TotalMilliseconds)) : watch.Policy.Interval);
            var check = CheckGuardedAsync(instance, watch, cancellationToken);
            _checks.TryAdd(check, 0);
            _ = check.ContinueWith(t => _checks.TryRemove(t, out _), TaskScheduler.Default);
        }

        foreach (var id in _watches.Keys.Where(id => !seen.Contains(id)))
        {
            _watches.TryRemove(id, out _);
            health.Remove(id);
        }
    }

    private async Task CheckGuardedAsync(ServiceInstance instance, InstanceWatch watch, CancellationToken cancellationToken)
    {
        var instanceId = instance.Id;
        var gate = locks.For(instanceId);
        var slot = false;
        try
        {
            // A slot bounds the protocol checks in flight. A server that is gone or stopped needs none: waiting behind
            // hundreds of due checks would delay its incident by seconds (measured: 6.7 s at 254 instances).
            if (watch.RestartDue is not null || Runtime.GetRecentStatus(Runtime.PathsFor(instance.InternalId)) is ProcessStatus.Running { Stopped: false })
            {
                await _checkSlots.WaitAsync(cancellationToken);
                slot = true;
            }

            if (!await gate.WaitAsync(0, cancellationToken))
            {
                return; // an operation is working on it
            }

            try
            {
                await CheckAsync(instanceId, watch, cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.SupervisionFailed(logger, instanceId, ex);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        finally
        {
            if (slot)
            {
                _checkSlots.Release();
            }

            Interlocked.Exchange(ref watch.Busy, 0);
        }
    }

    private async Task CheckAsync(string instanceId, InstanceWatch watch, CancellationToken cancellationToken)
    {
        // Both from memory: the index is read again once an instance changed, and the operation runner knows what it runs.
        var instance = await index.GetAsync(instanceId, cancellationToken);
        if (instance is not { State: InstanceState.Ready } || await operations.HoldsAsync(instanceId, cancellationToken))
        {
            return;
        }

        var engine = engines.Engine(instance.ServiceId);
        var context = engines.Context(instance);
        var now = time.GetUtcNow();
        if (watch.RestartDue is { } due)
        {
            if (now >= due)
            {
                await RestartAsync(engine, context, watch, cancellationToken);
            }

            return;
        }

        var status = Runtime.GetStatus(context.Paths);
        if (status is not ProcessStatus.Running running)
        {
            if (Runtime.WasStoppedOnPurpose(context.Paths))
            {
                return; // stopped on purpose
            }

            // The shim writes the exit status a moment after the server dies; a failure is classified from
            // the real status, not from having looked too early.
            for (var wait = 0; wait < 50 && status is ProcessStatus.Exited { ExitCode: null, Signal: null }; wait++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
                status = Runtime.GetStatus(context.Paths);
            }

            var (diagnosis, evidence) = classifier.ClassifyExit(engine, context, status);
            if (watch.StartedAt is { } started)
            {
                evidence["uptime_seconds"] = Math.Round((now - started).TotalSeconds, 1);
            }

            await HandleFailureAsync(instance, engine, context, watch, diagnosis, evidence, $"the server process ended: {ServerLog.Describe(status)}", cancellationToken);
            return;
        }

        if (running.Stopped)
        {
            await StoppedAsync(instance, engine, context, watch, running, cancellationToken);
            return;
        }

        // A server whose data directory is gone answers for a while and loses everything at its next save or
        // restart: found at the next check, before the server fails, while its data can still be rescued.
        if (classifier.DataDirectory(engine, context) is { } lost)
        {
            var evidence = classifier.Evidence(context);
            evidence["pid"] = running.Pid;
            await HandleFailureAsync(instance, engine, context, watch, lost, evidence, "the data directory check failed while the server runs", cancellationToken);
            return;
        }

        string? problem = null;
        var checkStarted = time.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(watch.Policy.Timeout);
            await engine.CheckAsync(context, timeout.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            problem = ex is OperationCanceledException ? $"no answer within {watch.Policy.Timeout.TotalSeconds:0.#} s" : ex.Message;
        }

        if (problem is null)
        {
            await HealthyAsync(instance, context, watch, time.GetElapsedTime(checkStarted), cancellationToken);
            return;
        }

        watch.ConsecutiveFailures++;
        Log.CheckFailed(logger, instance.Id, watch.ConsecutiveFailures, problem);
        SetHealth(watch, instance.Id, HealthStatus.Unhealthy, $"check failed ({watch.ConsecutiveFailures} in a row): {problem}");
        if (watch.AwaitingFirstHealthy)
        {
            if (now - watch.StartedAt > watch.Policy.StartupTimeout)
            {
                var evidence = classifier.Evidence(context);
                evidence["last_check_error"] = problem;
                await HandleFailureAsync(instance, engine, context, watch, new Diagnosis(FailureClass.StartupTimeout, $"no successful check within {watch.Policy.StartupTimeout.TotalSeconds:0} s of the start: {problem}"), evidence, "the restarted server never answered", cancellationToken);
            }

            return;
        }

        if (watch.ConsecutiveFailures >= watch.Policy.FailureThreshold)
        {
            var evidence = classifier.Evidence(context);
            evidence["pid"] = running.Pid;
            evidence["process_state"] = running.State;
            evidence["last_check_error"] = problem;
            evidence["consecutive_failed_checks"] = watch.ConsecutiveFailures;
            // The data directory may have gone while the checks failed (removing a large one takes a while).
            var diagnosis = classifier.DataDirectory(engine, context)
                ?? new Diagnosis(FailureClass.UnhealthyButRunning, $"pid {running.Pid} exists (state {running.State}) but failed {watch.ConsecutiveFailures} checks in a row: {problem}");
            await HandleFailureAsync(instance, engine, context, watch, diagnosis, evidence, "health checks failed while the process runs", cancellationToken);
        }
    }

    private async Task HealthyAsync(ServiceInstance instance, EngineContext context, InstanceWatch watch, TimeSpan took, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        watch.ConsecutiveFailures = 0;

        // The copy of the healthy configuration first: once the instance is reported healthy, a change is a change.
        if (!watch.SnapshotTaken)
        {
            await ConfigSnapshot.TakeAsync(Runtime, context.Paths, cancellationToken);
            watch.SnapshotTaken = true;
        }

        SetHealth(watch, instance.Id, HealthStatus.Healthy, $"answered in {took.TotalMilliseconds:0} ms");

        if (watch.OpenIncidentId is not { } incidentId || await store.GetIncidentAsync(incidentId, cancellationToken) is not { } incident)
        {
            return;
        }

        if (watch.AwaitingFirstHealthy)
        {
            watch.AwaitingFirstHealthy = false;
            await store.SaveIncidentAsync(incident.With(now, "healthy", "the restarted server answers its health check"), cancellationToken);
            return;
        }

        if (watch.Continued)
        {
            watch.Continued = false;
            var resolved = incident with { State = IncidentState.Resolved, Summary = incident.Summary + "; continued, nothing was killed or restarted" };
            await store.SaveIncidentAsync(resolved.With(now, "resolved", "the continued server answers its health check, with the data it held"), cancellationToken);
            watch.OpenIncidentId = null;
            Log.Recovered(logger, instance.Id, incident.Id);
            return;
        }

        if (watch.StartedAt is null || now - watch.StartedAt >= watch.Policy.MinUptime)
        {
            var resolved = incident with { State = IncidentState.Resolved, Summary = incident.Summary + $"; recovered after {incident.Restarts} restart(s)" };
            await store.SaveIncidentAsync(resolved.With(now, "resolved", $"healthy for at least {watch.Policy.MinUptime.TotalSeconds:0} s since the restart"), cancellationToken);
            watch.OpenIncidentId = null;
            Log.Recovered(logger, instance.Id, incident.Id);
        }
    }

    /// <summary>
    /// A process something stopped (SIGSTOP) holds its data but runs no code: it is continued, never killed,
    /// and the incident says it was found stopped. Only when it is found stopped again at every check, so that
    /// continuing does not help (a tracer holds it), is it handled as a hang.
    /// </summary>
    private async Task StoppedAsync(ServiceInstance instance, IDataServiceEngine engine, EngineContext context, InstanceWatch watch, ProcessStatus.Running running, CancellationToken cancellationToken)
    {
        watch.ConsecutiveFailures++;
        var evidence = classifier.Evidence(context);
        evidence["pid"] = running.Pid;
        evidence["process_state"] = running.State;
        evidence["consecutive_failed_checks"] = watch.ConsecutiveFailures;
        if (watch.ConsecutiveFailures > watch.Policy.FailureThreshold)
        {
            var hang = new Diagnosis(FailureClass.UnhealthyButRunning, $"pid {running.Pid} was found {running.State} at {watch.ConsecutiveFailures} checks in a row; continuing it did not help");
            await HandleFailureAsync(instance, engine, context, watch, hang, evidence, "the process stays stopped", cancellationToken);
            return;
        }

        var now = time.GetUtcNow();
        var diagnosis = new Diagnosis(FailureClass.ProcessStopped, $"pid {running.Pid} was found {running.State}: it runs no code and cannot answer, but it holds its data");
        Log.FailureDetected(logger, instance.Id, diagnosis.Class.Name(), diagnosis.Evidence);
        evidence["class_evidence"] = diagnosis.Evidence;
        var incident = await OpenIncidentAsync(instance, watch, diagnosis, evidence, now, cancellationToken);
        incident = incident.With(now, "detected", $"pid {running.Pid} found {running.State}").With(now, "classified", $"{diagnosis.Class.Name()}: {diagnosis.Evidence}");
        var resumed = Runtime.Resume(context.Paths);
        Log.Continued(logger, instance.Id, running.Pid, running.State);
        incident = incident.With(time.GetUtcNow(), "continued", $"sent SIGCONT to {resumed} stopped process(es) of the instance; nothing was killed");
        watch.Continued = true;
        watch.NextCheck = now + TimeSpan.FromMilliseconds(Math.Min(500, watch.Policy.Interval.TotalMilliseconds));
        await store.SaveIncidentAsync(incident, cancellationToken);
        SetHealth(watch, instance.Id, HealthStatus.Unhealthy, $"{diagnosis.Class.Name()}: pid {running.Pid} was found {running.State}; continued");
    }

    private async Task<Incident> OpenIncidentAsync(ServiceInstance instance, InstanceWatch watch, Diagnosis diagnosis, Dictionary<string, object?> evidence, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var incident = watch.OpenIncidentId is { } open ? await store.GetIncidentAsync(open, cancellationToken) : null;
        incident = (incident ?? new Incident
        {
            Id = "inc-" + Secrets.Token(12),
            InstanceId = instance.Id,
            Class = diagnosis.Class,
            State = IncidentState.Open,
            Summary = $"{diagnosis.Class.Name()}: {diagnosis.Evidence}",
            OpenedAt = now,
            UpdatedAt = now,
        }) with { Class = diagnosis.Class, Evidence = evidence };
        watch.OpenIncidentId = incident.Id;
        return incident;
    }

    private async Task HandleFailureAsync(ServiceInstance instance, IDataServiceEngine engine, EngineContext context, InstanceWatch watch, Diagnosis diagnosis, Dictionary<string, object?> evidence, string detected, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Log.FailureDetected(logger, instance.Id, diagnosis.Class.Name(), diagnosis.Evidence);
        evidence["class_evidence"] = diagnosis.Evidence;
        var incident = await OpenIncidentAsync(instance, watch, diagnosis, evidence, now, cancellationToken);
        incident = incident.With(now, "detected", detected).With(now, "classified", $"{diagnosis.Class.Name()}: {diagnosis.Evidence}");
        watch.Continued = false;

        // Fence before anything else, so a restart never races a half-dead predecessor; but rescue first what
        // only the failing process still holds.
        incident = await fence.StopAsync(engine, context, incident, cancellationToken);
        now = time.GetUtcNow();

        if (!diagnosis.Class.IsRestartable())
        {
            await QuarantineAsync(instance, context, watch, incident, $"a restart cannot fix {diagnosis.Class.Name()}", cancellationToken);
            return;
        }

        if (watch.Budget.TryTake() is not { } delay)
        {
            await QuarantineAsync(instance, context, watch, incident, $"crash loop: the restart budget of {watch.Budget.Limit} restarts within {watch.Budget.Window.TotalSeconds:0} s is spent", cancellationToken);
            return;
        }

        watch.RestartDue = now + delay;
        watch.NextCheck = watch.RestartDue.Value;
        SetHealth(watch, instance.Id, HealthStatus.Unhealthy, $"{diagnosis.Class.Name()}; restart {watch.Budget.Used} of {watch.Budget.Limit} in {delay.TotalSeconds:0.###} s");
        Log.RestartScheduled(logger, instance.Id, watch.Budget.Used, watch.Budget.Limit, delay);
        await store.SaveIncidentAsync(incident.With(now, "restart-scheduled", $"restart {watch.Budget.Used} of {watch.Budget.Limit} allowed within {watch.Budget.Window.TotalSeconds:0} s, after {delay.TotalSeconds:0.###} s of backoff"), cancellationToken);
    }

    private async Task RestartAsync(IDataServiceEngine engine, EngineContext context, InstanceWatch watch, CancellationToken cancellationToken)
    {
        watch.RestartDue = null;
        await Runtime.StopAsync(context.Paths, 9, TimeSpan.Zero, cancellationToken);
        await Runtime.StartAsync(context.Paths, engine.Launch(context), cancellationToken);
        var now = time.GetUtcNow();
        watch.StartedAt = now;
        watch.AwaitingFirstHealthy = true;
        watch.SnapshotTaken = false;
        watch.ConsecutiveFailures = 0;
        watch.NextCheck = now + TimeSpan.FromMilliseconds(Math.Min(500, watch.Policy.Interval.TotalMilliseconds));
        var pid = (Runtime.GetStatus(context.Paths) as ProcessStatus.Running)?.Pid;
        if (watch.OpenIncidentId is { } id && await store.GetIncidentAsync(id, cancellationToken) is { } incident)
        {
            await store.SaveIncidentAsync(incident.With(now, "restarted", pid is null ? "started again" : $"started again as pid {pid}") with { Restarts = incident.Restarts + 1 }, cancellationToken);
        }
    }

    private async Task QuarantineAsync(ServiceInstance instance, EngineContext context, InstanceWatch watch, Incident incident, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var rescued = incident.Evidence.TryGetValue("rescued_to", out var to) && to is string r ? $"; the data its server held was rescued to {r}" : string.Empty;

        // The note goes beside the files even when the instance's directory itself was removed.
        await Runtime.CreatePrivateDirectoryAsync(context.Paths.Root, cancellationToken);
        await Runtime.WriteFileAsync(
            Path.Combine(context.Paths.Root, "QUARANTINED"),
            string.Create(CultureInfo.InvariantCulture, $"quarantined at {now:O}\nincident {incident.Id}\n{reason}{rescued}\nThe server is stopped; data/, config/, log/ and rescued/ are kept as they were for inspection.\n"),
            cancellationToken);
        await store.SaveInstanceAsync(instance with { State = InstanceState.Quarantined, UpdatedAt = now }, cancellationToken);
        incident = incident with
        {
            State = IncidentState.Quarantined,
            PreservedPath = context.Paths.Root,
            Summary = $"{incident.Class.Name()}: {reason}; the instance is stopped and its files are preserved in {context.Paths.Root}{rescued}",
        };
        await store.SaveIncidentAsync(incident.With(now, "quarantined", $"{reason}; files preserved in {context.Paths.Root}{rescued}"), cancellationToken);
        watch.OpenIncidentId = null;
        SetHealth(watch, instance.Id, HealthStatus.Failed, $"quarantined: {reason}");
        Log.Quarantined(logger, instance.Id, reason, context.Paths.Root);
    }

    private void SetHealth(InstanceWatch watch, string instanceId, HealthStatus status, string detail)
    {
        watch.Health = new InstanceHealth(instanceId, status, time.GetUtcNow(), detail)
        {
            ConsecutiveFailures = watch.ConsecutiveFailures,
            OpenIncidentId = watch.OpenIncidentId,
        };
        health.Set(watch.Health);
    }
}

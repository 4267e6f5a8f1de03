using System.Collections.Concurrent;
using Steward.Engines;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Operations;
using Steward.Server.Supervision;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.HighAvailability;

/// <summary>
/// Owns every highly available instance (the supervisor leaves them alone): checks each member every tick,
/// fails over when the primary dies or hangs, replaces failed standbys, and keeps the endpoint on the primary.
/// After a broker start it first rebuilds its view from the servers themselves, so a broker crash never makes
/// a second primary. It never acts on an instance while an operation holds it.
/// </summary>
internal sealed class HaController(
    IStateStore store,
    InstanceIndex index,
    IHaMemberStore memberStore,
    EngineRegistry engines,
    InstanceLocks locks,
    HaLayout layout,
    HaFailover failover,
    IHaEndpoint proxy,
    HaRegistry registry,
    HealthRegistry health,
    FailureClassifier classifier,
    HaOptions options,
    TimeProvider time,
    ILogger<HaController> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, HaWatch> _watches = new();
    private readonly ConcurrentDictionary<Task, byte> _work = new();

    /// <summary>Runs <paramref name="action"/> on the instance once no operation or check holds it (switchover).</summary>
    public async Task<T> ExclusiveAsync<T>(string instanceId, Func<HaWatch, CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var gate = locks.For(instanceId);
        if (!await gate.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken))
        {
            throw Steward.Errors.StewardException.Concurrency($"instance {instanceId} is busy with another operation; try again");
        }

        try
        {
            return await action(_watches.GetOrAdd(instanceId, _ => new HaWatch()), cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>What the controller remembers of the instance, for an operation that holds its lock and acts on the members.</summary>
    public HaWatch Watch(string instanceId) => _watches.GetOrAdd(instanceId, _ => new HaWatch());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await PeriodicLoop.RunAsync(TickAsync, options.Tick, time, ex => HaLog.CheckFailed(logger, "*", ex), stoppingToken);
        await Task.WhenAll(_work.Keys);
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>();
        foreach (var instance in await index.ListAsync(cancellationToken))
        {
            if (instance.State != InstanceState.Ready || !engines.HighlyAvailable(instance) || engines.Unavailable(instance.ServiceId) is not null)
            {
                continue;
            }

            seen.Add(instance.Id);
            var watch = _watches.GetOrAdd(instance.Id, _ => new HaWatch());
            if (Interlocked.CompareExchange(ref watch.Busy, 1, 0) != 0)
            {
                continue;
            }

            var work = GuardedAsync(instance.Id, watch, cancellationToken);
            _work.TryAdd(work, 0);
            _ = work.ContinueWith(t => _work.TryRemove(t, out _), TaskScheduler.Default);
        }

        foreach (var id in _watches.Keys.Where(id => !seen.Contains(id)))
        {
            _watches.TryRemove(id, out _);
        }
    }

    private async Task GuardedAsync(string instanceId, HaWatch watch, CancellationToken cancellationToken)
    {
        var gate = locks.For(instanceId);
        try
        {
            if (!await gate.WaitAsync(0, cancellationToken))
            {
                return;
            }

            try
            {
                var instance = await store.GetInstanceAsync(instanceId, cancellationToken);

                // An operation not yet resumed after a broker restart (a plan change half done) owns the members.
                if (instance is { State: InstanceState.Ready } && await store.LatestInstanceOperationAsync(instanceId, cancellationToken) is not { State: Steward.Operations.OperationState.InProgress })
                {
                    await SuperviseAsync(instance, watch, cancellationToken);
                }
            }
            finally
            {
                gate.Release();
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            HaLog.CheckFailed(logger, instanceId, ex);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        finally
        {
            Interlocked.Exchange(ref watch.Busy, 0);
        }
    }

    private async Task SuperviseAsync(ServiceInstance instance, HaWatch watch, CancellationToken cancellationToken)
    {
        var members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        if (members.Count == 0)
        {
            return;
        }

        // A fenced member never runs again, whoever started it.
        foreach (var fenced in members.Where(m => m.Role == MemberRole.Fenced))
        {
            if (!watch.Verified || layout.Runtime.GetStatus(layout.Member(instance, fenced)) is ProcessStatus.Running)
            {
                await failover.KeepFencedAsync(instance, fenced, cancellationToken);
            }
        }

        if (!watch.Verified)
        {
            await failover.VerifyViewAsync(instance, watch, cancellationToken);
            watch.Verified = true;
            members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        }

        var primary = members.FirstOrDefault(m => m.Role == MemberRole.Primary);
        if (primary is null)
        {
            await failover.FailoverAsync(instance, watch, null, "no primary is recorded: a failover was interrupted", new Diagnosis(FailureClass.Unknown, "no primary recorded"), [], cancellationToken);
            return;
        }

        if (!await CheckPrimaryAsync(instance, watch, primary, cancellationToken))
        {
            return;
        }

        if (!proxy.IsRunning(instance))
        {
            await proxy.EnsureRunningAsync(instance, HaFailover.Slots(members), primary, cancellationToken);
        }

        foreach (var standby in members.Where(m => m.Role == MemberRole.Standby))
        {
            await CheckStandbyAsync(instance, watch, standby, cancellationToken);
        }

        await failover.EnsureRedundancyAsync(instance, watch, cancellationToken);
        members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        var streamingSlots = members.Where(m => m.Role == MemberRole.Standby && registry.Get(instance.Id, m.Name)?.State == "streaming").Select(m => m.Slot).ToHashSet();
        await proxy.ReadOnlyAsync(instance, HaFailover.Slots(members), primary, streamingSlots, cancellationToken);
        var streaming = streamingSlots.Count;
        var size = engines.Plan(instance.ServiceId, instance.PlanId).Members;
        health.Set(new InstanceHealth(instance.Id, streaming == size - 1 ? HealthStatus.Healthy : HealthStatus.Unhealthy, time.GetUtcNow(),
            $"primary {primary.Name}; {streaming} of {size - 1} standbys streaming"));
    }

    /// <summary>False when the primary failed (and a failover was attempted).</summary>
    private async Task<bool> CheckPrimaryAsync(ServiceInstance instance, HaWatch watch, HaMember primary, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        var context = layout.Context(instance, primary);
        var status = layout.Runtime.GetStatus(context.Paths);
        if (status is not ProcessStatus.Running)
        {
            // Nothing listens on the slot any more: out of the endpoint at once, before the failover's bookkeeping, so a
            // client's connection attempt fails at once instead of being led to a dead port.
            await CutDeadPrimaryAsync(instance, primary, cancellationToken);

            // The shim writes the exit status a moment after the server dies.
            for (var wait = 0; wait < 25 && status is ProcessStatus.Exited { ExitCode: null, Signal: null }; wait++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
                status = layout.Runtime.GetStatus(context.Paths);
            }

            var (diagnosis, evidence) = classifier.ClassifyExit(engine, context, status);
            await failover.FailoverAsync(instance, watch, primary, $"the primary's server process ended: {ServerLog.Describe(status)}", diagnosis, evidence, cancellationToken);
            return false;
        }

        try
        {
            var observation = await ObserveAsync(instance, primary, cancellationToken);
            if (observation.InRecovery)
            {
                throw new InvalidOperationException("the recorded primary is in recovery");
            }

            watch.PrimaryFailures = 0;
            watch.Blocked = null;
            watch.PrimaryLsn = observation.FlushLsn;
            if (watch.Timeline != observation.Timeline)
            {
                // A timeline the controller did not make (a restore into the instance): the old one's positions say
                // nothing about it, and could make every standby look behind.
                watch.AcknowledgedLsn = 0;
            }

            watch.Timeline = observation.Timeline;
            var acknowledged = observation.Replicas.Where(r => r.SyncState is "quorum" or "sync").Select(r => r.FlushLsn ?? 0).DefaultIfEmpty(0UL).Max();
            watch.AcknowledgedLsn = Math.Max(watch.AcknowledgedLsn, acknowledged);
            registry.Set(instance.Id, primary.Name, new MemberView(time.GetUtcNow(), "primary", observation, 0, null));
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            watch.PrimaryFailures++;
            var problem = ex is OperationCanceledException ? $"no answer within {options.CheckTimeout.TotalSeconds:0.#} s" : ex.Message;
            registry.Set(instance.Id, primary.Name, new MemberView(time.GetUtcNow(), "primary, not answering", null, null, problem));
            if (watch.PrimaryFailures < options.FailureThreshold)
            {
                return false;
            }

            var running = (ProcessStatus.Running)status;
            var pid = running.Pid;
            var evidence = classifier.Evidence(context);
            evidence["pid"] = pid;
            evidence["process_state"] = running.State;
            evidence["last_check_error"] = problem;
            evidence["consecutive_failed_checks"] = watch.PrimaryFailures;
            var diagnosis = new Diagnosis(FailureClass.UnhealthyButRunning, $"pid {pid} exists (state {running.State}) but failed {watch.PrimaryFailures} checks in a row: {problem}");
            await failover.FailoverAsync(instance, watch, primary, "the primary does not answer its checks", diagnosis, evidence, cancellationToken);
            return false;
        }
    }

    private async Task CutDeadPrimaryAsync(ServiceInstance instance, HaMember primary, CancellationToken cancellationToken)
    {
        try
        {
            await proxy.CutAsync(instance, primary, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            HaLog.CheckFailed(logger, instance.Id, ex); // the fence cuts it again
        }
    }

    private async Task CheckStandbyAsync(ServiceInstance instance, HaWatch watch, HaMember standby, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        var context = layout.Context(instance, standby);
        var status = layout.Runtime.GetStatus(context.Paths);
        if (status is not ProcessStatus.Running)
        {
            var (diagnosis, evidence) = classifier.ClassifyExit(engine, context, status);
            await failover.ReplaceStandbyAsync(instance, watch, standby, $"the standby's server process ended: {ServerLog.Describe(status)}", diagnosis, evidence, cancellationToken);
            return;
        }

        try
        {
            var observation = await ObserveAsync(instance, standby, cancellationToken);
            watch.StandbyFailures.TryRemove(standby.Name, out _);
            long? lag = watch.PrimaryLsn is { } p ? (long)(p - Math.Min(p, observation.ReplayLsn ?? 0)) : null;
            var streaming = observation.InRecovery && observation.ReceiveLsn is not null && observation.Timeline == watch.Timeline;
            registry.Set(instance.Id, standby.Name, new MemberView(time.GetUtcNow(), streaming ? "streaming" : "standby, not streaming", observation, lag, null));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var failures = watch.StandbyFailures.AddOrUpdate(standby.Name, 1, (_, n) => n + 1);
            var problem = ex is OperationCanceledException ? $"no answer within {options.CheckTimeout.TotalSeconds:0.#} s" : ex.Message;
            registry.Set(instance.Id, standby.Name, new MemberView(time.GetUtcNow(), "standby, not answering", null, null, problem));
            if (failures >= options.FailureThreshold * 5)
            {
                var evidence = classifier.Evidence(context);
                evidence["last_check_error"] = problem;
                await failover.ReplaceStandbyAsync(instance, watch, standby, "the standby does not answer its checks", new Diagnosis(FailureClass.UnhealthyButRunning, problem), evidence, cancellationToken);
            }
        }
    }

    private async Task<MemberObservation> ObserveAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CheckTimeout);
        return await failover.Replication(instance).ObserveAsync(layout.Context(instance, member), timeout.Token);
    }
}

using Steward.Errors;
using Steward.HighAvailability;
using Steward.Server.Operations;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.State;

namespace Steward.Server.HighAvailability;

/// <summary>
/// A planned change of primary without data loss: the endpoint stops sending to the primary, the primary
/// shuts down cleanly (which hands every WAL record to the connected standbys), the target is checked to
/// hold the primary's shutdown checkpoint, promoted, and the old primary restarts as its standby.
/// </summary>
internal sealed class HaSwitchover(
    IStateStore store,
    IHaMemberStore memberStore,
    EngineRegistry engines,
    HaController controller,
    HaLayout layout,
    HaMembers builder,
    HaFailover failover,
    IHaEndpoint proxy,
    StewardOptions options,
    TimeProvider time,
    ILogger<HaSwitchover> logger)
{
    public async Task<SwitchoverResult> SwitchoverAsync(string instanceId, string? to, CancellationToken cancellationToken)
    {
        var instance = await store.GetInstanceAsync(instanceId, cancellationToken);
        if (instance is null || instance.State == InstanceState.Deleted)
        {
            throw StewardException.NotFound($"instance {instanceId} does not exist");
        }

        if (!engines.Plan(instance.ServiceId, instance.PlanId).HighlyAvailable)
        {
            throw StewardException.BadRequest($"instance {instanceId} has no standby to switch over to: its plan runs a single server");
        }

        if (instance.State != InstanceState.Ready)
        {
            throw StewardException.Concurrency($"instance {instanceId} is {instance.State.ToString().ToLowerInvariant()}; a switchover needs it ready");
        }

        return await controller.ExclusiveAsync(instanceId, (watch, ct) => RunAsync(instance, to, watch, ct), cancellationToken);
    }

    /// <summary>The switchover itself, for a caller that already holds the instance's lock (a rolling parameter change).</summary>
    public async Task<SwitchoverResult> RunAsync(ServiceInstance instance, string? to, HaWatch watch, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        var primary = members.FirstOrDefault(m => m.Role == MemberRole.Primary)
            ?? throw StewardException.Concurrency($"instance {instance.Id} has no primary right now (a failover is under way)");
        var replication = failover.Replication(instance);
        var primaryView = await replication.ObserveAsync(layout.Context(instance, primary), cancellationToken);
        ReplicaObservation? Seen(HaMember m) => primaryView.Replicas.FirstOrDefault(r => r.Name == m.SlotName || r.Port == m.Port);
        var standbys = members.Where(m => m.Role == MemberRole.Standby && Seen(m)?.State == "streaming").ToList();
        HaMember target;
        if (to is not null)
        {
            var named = members.FirstOrDefault(m => m.Name == to)
                ?? throw StewardException.BadRequest($"instance {instance.Id} has no member '{to}'; members: {string.Join(", ", members.Select(m => m.Name))}");
            target = standbys.FirstOrDefault(m => m.Name == to)
                ?? throw StewardException.BadRequest($"member {to} is {named.Role.ToString().ToLowerInvariant()}{(named.Role == MemberRole.Standby ? " but not streaming" : string.Empty)}; only a streaming standby can become the primary");
        }
        else
        {
            target = standbys.OrderByDescending(m => Seen(m)?.FlushLsn ?? 0).ThenBy(m => m.Slot).FirstOrDefault()
                ?? throw StewardException.Concurrency($"instance {instance.Id} has no streaming standby to switch over to");
        }

        // Clients pause here: the endpoint leads nowhere until the target is promoted.
        await proxy.RouteAsync(instance, HaFailover.Slots(members), null, cancellationToken);
        var primaryContext = layout.Context(instance, primary);
        var engine = engines.Engine(instance.ServiceId);
        await layout.Runtime.StopAsync(primaryContext.Paths, engine.Launch(primaryContext).StopSignal, options.StopGrace, cancellationToken);
        var stoppedAt = await replication.StoppedPositionAsync(primaryContext, cancellationToken);
        var targetContext = layout.Context(instance, target);
        MemberObservation? seen = null;
        for (var i = 0; i < 100; i++)
        {
            seen = await replication.ObserveAsync(targetContext, cancellationToken);
            if (stoppedAt is { } s && seen.Position > s)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }

        if (stoppedAt is null || seen?.Position is not { } received || received <= stoppedAt)
        {
            // The target does not hold everything: the old primary comes back as it was.
            await builder.StartAsync(instance, primary, cancellationToken);
            await proxy.RouteAsync(instance, HaFailover.Slots(members), primary, cancellationToken);
            throw new StewardException(ErrorCode.Internal, $"switchover abandoned: {target.Name} received up to {Lsn.Format(seen?.Position)}, not past {primary.Name}'s shutdown checkpoint {Lsn.Format(stoppedAt)}; {primary.Name} is the primary again");
        }

        await proxy.LeaveReadOnlyAsync(instance, target, cancellationToken);
        await replication.PromoteAsync(targetContext, cancellationToken);
        var now = time.GetUtcNow();
        await memberStore.SaveMemberAsync(target with { Role = MemberRole.Primary, Detail = $"switchover from {primary.Name}", UpdatedAt = now }, cancellationToken);
        await memberStore.SaveMemberAsync(primary with { Role = MemberRole.Standby, Detail = $"switchover to {target.Name}", UpdatedAt = now }, cancellationToken);
        var size = engines.Plan(instance.ServiceId, instance.PlanId).Members;
        await replication.ConfigureMemberAsync(primaryContext, layout.Role(instance, primary, target, size), cancellationToken);
        await failover.FollowAsync(instance, target with { Role = MemberRole.Primary }, cancellationToken);
        var after = await replication.ObserveAsync(targetContext, cancellationToken);
        watch.Timeline = after.Timeline;
        watch.PrimaryLsn = after.FlushLsn;
        watch.PrimaryFailures = 0;
        var paused = clock.Elapsed;

        // The old primary follows the new one; writes already go on meanwhile.
        await builder.StartAsync(instance, primary with { Role = MemberRole.Standby }, cancellationToken);
        HaLog.SwitchedOver(logger, instance.Id, primary.Name, target.Name);
        return new SwitchoverResult(primary.Name, target.Name, Lsn.Format(stoppedAt), after.Timeline, Math.Round(paused.TotalSeconds, 3));
    }
}

/// <summary>What a switchover did: the old and new primary, where the old one stopped, the new timeline, how long writes paused.</summary>
internal sealed record SwitchoverResult(string From, string To, string? AtLsn, long Timeline, double PausedSeconds);

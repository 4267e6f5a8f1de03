using Steward.Errors;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.Server.Operations;

namespace Steward.Server.HighAvailability;

/// <summary>
/// A parameter change of an ha instance, rolled over its members the way Patroni does it: every member's
/// configuration is rewritten and reloaded (settings that need no restart take effect there and then); the
/// standbys that still hold a setting only a restart applies restart one at a time, each waited for until it
/// streams again; then a switchover to an up-to-date standby restarts the old primary as a standby with the new
/// settings, so the endpoint sees one switchover pause. A lowered setting that PostgreSQL requires a standby to
/// hold at least at its primary's value (max_connections, …) restarts the primary first, in place. Every step
/// asks the servers what is left to do, so a broker killed at any step finishes the change at its next start.
/// </summary>
internal sealed class HaParameterChange(
    IHaMemberStore memberStore,
    EngineRegistry engines,
    HaLayout layout,
    HaMembers builder,
    HaFailover failover,
    HaSwitchover switchover,
    HaController controller,
    StewardOptions options,
    TimeProvider time,
    ILogger<HaParameterChange> logger)
{
    private static readonly TimeSpan StreamingWithin = TimeSpan.FromSeconds(120);

    /// <summary>True when an update from <paramref name="from"/> to <paramref name="to"/> changes the parameters of an ha instance in place.</summary>
    public static bool Rolls(Steward.Catalog.ServicePlan from, Steward.Catalog.ServicePlan to) => from.HighlyAvailable && to.HighlyAvailable;

    /// <summary>The steps that bring every member of <paramref name="target"/> to its parameters; <paramref name="save"/> records them first.</summary>
    public IReadOnlyList<Step> Steps(ServiceInstance target, Func<ServiceInstance, CancellationToken, Task> save)
    {
        var size = engines.Plan(target.ServiceId, target.PlanId).Members;
        var steps = new List<Step>
        {
            new("hap-save", "recording the new parameters", ct => save(target, ct)),
            new("hap-configure", "writing every member's configuration", ct => ConfigureAsync(target, ct), Rerun: true),
            new("hap-reload", "reloading every member (settings that need no restart take effect now)", ct => ReloadAsync(target, ct), Rerun: true),
            new("hap-primary-first", "restarting the primary first if a setting standbys must hold at least at the primary's value is lowered", ct => PrimaryFirstAsync(target, ct), Rerun: true),
        };
        for (var slot = 1; slot <= size; slot++)
        {
            var s = slot;
            steps.Add(new($"hap-standby-{s}", $"restarting the standby of slot {s} if a setting needs a restart, then waiting until it streams again", ct => StandbyAsync(target, s, ct), Rerun: true));
        }

        steps.Add(new("hap-switchover", "switching over to an up-to-date standby if the primary still needs a restart (the old primary restarts as a standby)", ct => PrimaryLastAsync(target, ct), Rerun: true));
        steps.Add(new("hap-verify", "checking that every member runs with the new settings", ct => VerifyAsync(target, ct), Rerun: true));
        return steps;
    }

    private IReplicationEngine Replication(ServiceInstance instance) => builder.Replication(instance);

    private bool Running(ServiceInstance instance, HaMember member) => layout.Runtime.GetStatus(layout.Member(instance, member)) is ProcessStatus.Running;

    private async Task<IReadOnlyList<HaMember>> LiveAsync(ServiceInstance instance, CancellationToken cancellationToken) =>
        [.. (await memberStore.ListMembersAsync(instance.Id, cancellationToken)).Where(m => m.Role is MemberRole.Primary or MemberRole.Standby)];

    private async Task ConfigureAsync(ServiceInstance target, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(target.ServiceId);
        foreach (var member in await LiveAsync(target, cancellationToken))
        {
            await engine.ConfigureAsync(layout.Context(target, member), cancellationToken);
        }
    }

    private async Task ReloadAsync(ServiceInstance target, CancellationToken cancellationToken)
    {
        foreach (var member in await LiveAsync(target, cancellationToken))
        {
            if (!Running(target, member))
            {
                continue;
            }

            try
            {
                await Replication(target).ReloadAsync(layout.Context(target, member), cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A server caught shutting down (a stop asked for just before a broker was killed) refuses the reload;
                // it reads the configuration written by the step before when it starts again, and hap-verify checks
                // every member's settings at the end. A server that keeps running refused it for real.
                if (!await EndsWithinAsync(target, member, cancellationToken))
                {
                    throw;
                }
            }
        }
    }

    /// <summary>True when the member's server ends within 30 s: it was shutting down, not refusing the reload.</summary>
    private async Task<bool> EndsWithinAsync(ServiceInstance target, HaMember member, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (Running(target, member))
        {
            if (time.GetElapsedTime(started) > TimeSpan.FromSeconds(30))
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }

        return true;
    }

    private async Task PrimaryFirstAsync(ServiceInstance target, CancellationToken cancellationToken)
    {
        var primary = await ViewAsync(target, cancellationToken);
        var pending = await Replication(target).PendingSettingsAsync(layout.Context(target, primary), cancellationToken);
        if (pending.LoweredForStandbys.Count == 0)
        {
            return;
        }

        // The standbys run with the higher value meanwhile, which PostgreSQL accepts; clients see the primary's restart.
        HaLog.RollingRestart(logger, target.Id, primary.Name, "primary, first: lowered " + string.Join(", ", pending.LoweredForStandbys));
        await RestartAsync(target, primary, cancellationToken);
    }

    private async Task StandbyAsync(ServiceInstance target, int slot, CancellationToken cancellationToken)
    {
        var primary = await ViewAsync(target, cancellationToken);
        var standby = (await LiveAsync(target, cancellationToken)).FirstOrDefault(m => m.Slot == slot && m.Role == MemberRole.Standby);
        if (standby is null)
        {
            return; // the primary's slot, or one whose member is being rebuilt (it is built with the new settings)
        }

        var pending = await Replication(target).PendingSettingsAsync(layout.Context(target, standby), cancellationToken);
        if (pending.NeedRestart.Count > 0)
        {
            HaLog.RollingRestart(logger, target.Id, standby.Name, "standby: " + string.Join(", ", pending.NeedRestart));
            await RestartAsync(target, standby, cancellationToken);
        }

        await WaitStreamingAsync(target, primary, standby, cancellationToken);
    }

    private async Task PrimaryLastAsync(ServiceInstance target, CancellationToken cancellationToken)
    {
        var primary = await ViewAsync(target, cancellationToken);
        var replication = Replication(target);
        var pending = await replication.PendingSettingsAsync(layout.Context(target, primary), cancellationToken);
        if (pending.NeedRestart.Count == 0)
        {
            return;
        }

        // The standby to switch over to already runs with the new settings and streams.
        var view = await replication.ObserveAsync(layout.Context(target, primary), cancellationToken);
        HaMember? to = null;
        ulong best = 0;
        foreach (var standby in (await LiveAsync(target, cancellationToken)).Where(m => m.Role == MemberRole.Standby))
        {
            var seen = view.Replicas.FirstOrDefault(r => r.Name == standby.SlotName || r.Port == standby.Port);
            if (seen?.State == "streaming" && (seen.FlushLsn ?? 0) >= best
                && (await replication.PendingSettingsAsync(layout.Context(target, standby), cancellationToken)).NeedRestart.Count == 0)
            {
                (to, best) = (standby, seen.FlushLsn ?? 0);
            }
        }

        if (to is null)
        {
            throw new StewardException(ErrorCode.Internal, $"no streaming standby runs with the new settings ({string.Join(", ", pending.NeedRestart)}) to switch over to; {primary.Name} keeps the old ones until the change is retried");
        }

        HaLog.RollingRestart(logger, target.Id, primary.Name, $"primary, by a switchover to {to.Name}: {string.Join(", ", pending.NeedRestart)}");
        await switchover.RunAsync(target, to.Name, controller.Watch(target.Id), cancellationToken);
    }

    private async Task VerifyAsync(ServiceInstance target, CancellationToken cancellationToken)
    {
        var primary = await ViewAsync(target, cancellationToken);
        foreach (var member in await LiveAsync(target, cancellationToken))
        {
            var pending = await Replication(target).PendingSettingsAsync(layout.Context(target, member), cancellationToken);
            if (pending.NeedRestart.Count > 0)
            {
                throw new StewardException(ErrorCode.Internal, $"{member.Name} still runs with the old value of {string.Join(", ", pending.NeedRestart)}");
            }

            if (member.Role == MemberRole.Standby)
            {
                await WaitStreamingAsync(target, primary, member, cancellationToken);
            }
        }
    }

    private async Task RestartAsync(ServiceInstance target, HaMember member, CancellationToken cancellationToken)
    {
        var context = layout.Context(target, member);
        await layout.Runtime.StopAsync(context.Paths, engines.Engine(target.ServiceId).Launch(context).StopSignal, options.StopGrace, cancellationToken);
        await builder.StartAsync(target, member, cancellationToken);
    }

    private async Task WaitStreamingAsync(ServiceInstance target, HaMember primary, HaMember standby, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var primaryContext = layout.Context(target, primary);
        while (true)
        {
            string? state = null;
            try
            {
                var view = await Replication(target).ObserveAsync(primaryContext, cancellationToken);
                state = view.Replicas.FirstOrDefault(r => r.Name == standby.SlotName || r.Port == standby.Port)?.State;
                if (state == "streaming")
                {
                    return;
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && time.GetElapsedTime(started) < StreamingWithin)
            {
                state = ex.Message;
            }

            if (time.GetElapsedTime(started) > StreamingWithin)
            {
                throw new StewardException(ErrorCode.Internal, $"{standby.Name} did not stream from {primary.Name} again within {StreamingWithin.TotalSeconds:0} s ({state ?? "not connected"})");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }
    }

    /// <summary>
    /// The primary, as the servers say, after whatever a broker killed mid-step left: a switchover that promoted its
    /// target is finished (the target recorded as the primary, the old primary restarted as its standby); a member
    /// stopped for a restart is started again — a stopped primary only when no standby was promoted meanwhile.
    /// </summary>
    private async Task<HaMember> ViewAsync(ServiceInstance target, CancellationToken cancellationToken)
    {
        var replication = Replication(target);
        var size = engines.Plan(target.ServiceId, target.PlanId).Members;
        var live = await LiveAsync(target, cancellationToken);
        var primary = live.FirstOrDefault(m => m.Role == MemberRole.Primary)
            ?? throw new StewardException(ErrorCode.Internal, $"instance {target.Id} has no primary recorded; the HA controller fails over once the change has stopped");
        HaMember? promoted = null;
        foreach (var member in live.Where(m => m.Role == MemberRole.Standby && Running(target, m)))
        {
            try
            {
                if (!(await replication.ObserveAsync(layout.Context(target, member), cancellationToken)).InRecovery)
                {
                    promoted = member;
                }
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Not answering (yet): started or waited for below.
            }
        }

        var repaired = false;
        if (promoted is not null)
        {
            // A switchover got as far as the promotion before the broker died; its old primary was stopped before that.
            if (Running(target, primary))
            {
                await layout.Runtime.StopAsync(layout.Member(target, primary), engines.Engine(target.ServiceId).Launch(layout.Context(target, primary)).StopSignal, options.StopGrace, cancellationToken);
            }

            var now = time.GetUtcNow();
            await memberStore.SaveMemberAsync(promoted with { Role = MemberRole.Primary, Detail = $"switchover from {primary.Name} (finished after a broker restart)", UpdatedAt = now }, cancellationToken);
            await memberStore.SaveMemberAsync(primary with { Role = MemberRole.Standby, Detail = $"switchover to {promoted.Name}", UpdatedAt = now }, cancellationToken);
            await replication.ConfigureMemberAsync(layout.Context(target, primary), layout.Role(target, primary, promoted, size), cancellationToken);
            (primary, repaired) = (promoted with { Role = MemberRole.Primary }, true);
            live = await LiveAsync(target, cancellationToken);
        }
        else if (!Running(target, primary))
        {
            await builder.StartAsync(target, primary, cancellationToken);
            repaired = true;
        }

        foreach (var member in live.Where(m => m.Role == MemberRole.Standby && !Running(target, m)))
        {
            // Written as a standby of the primary first: a switchover cut short between recording the old primary as a
            // standby and writing its files would otherwise start it as a second primary.
            await replication.ConfigureMemberAsync(layout.Context(target, member), layout.Role(target, member, primary, size), cancellationToken);
            await builder.StartAsync(target, member, cancellationToken);
        }

        if (repaired)
        {
            await failover.FollowAsync(target, primary, cancellationToken);
        }

        return primary;
    }
}

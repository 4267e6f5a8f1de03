using Steward.Engines;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.Server.Operations;

namespace Steward.Server.HighAvailability;

/// <summary>
/// The member side of a restore into an ha instance (the operation itself is InstanceWorkflows.HaRestore): the data
/// is restored in the primary's place (point-in-time recovery from the archive, promoted onto a new timeline), then
/// every standby is rebuilt from it, then synchronous replication and the endpoint lead to it again. The HA
/// controller leaves the instance alone while the operation runs, so nothing fails over meanwhile.
/// </summary>
internal sealed class HaRestore(
    EngineRegistry engines,
    IHaMemberStore members,
    HaLayout layout,
    HaMembers builder,
    IHaEndpoint proxy,
    HaRegistry registry,
    StewardOptions options,
    TimeProvider time)
{
    /// <summary>The primary the data is restored into: the recorded one (roles do not change while the operation holds the instance).</summary>
    public async Task<HaMember> PrimaryAsync(ServiceInstance instance, CancellationToken cancellationToken) =>
        (await members.ListMembersAsync(instance.Id, cancellationToken)).FirstOrDefault(m => m.Role == MemberRole.Primary)
        ?? throw new InvalidOperationException($"instance {instance.Id} has no primary right now (a failover is under way); try again once it has one");

    public EngineContext Context(ServiceInstance instance, HaMember member) => layout.Context(instance, member);

    /// <summary>Stops every standby, so none streams the old data or could be taken for a primary while the restored one is not up yet.</summary>
    public async Task StopStandbysAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        foreach (var standby in await StandbysAsync(instance, cancellationToken))
        {
            var context = layout.Context(instance, standby);
            if (Directory.Exists(context.Paths.Root))
            {
                await layout.Runtime.StopAsync(context.Paths, engine.Launch(context).StopSignal, options.StopGrace, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The primary without synchronous standbys: while it recovers and until its standbys are rebuilt, nothing could
    /// acknowledge its commits (the checks' and the bindings' writes would wait forever).
    /// </summary>
    public async Task AloneAsync(ServiceInstance instance, HaMember primary, CancellationToken cancellationToken) =>
        await builder.Replication(instance).ConfigureMemberAsync(layout.Context(instance, primary), layout.Role(instance, primary, primary, Size(instance), synchronous: false), cancellationToken);

    /// <summary>Rebuilds every standby from the restored primary: its old files removed, cloned anew, started, streaming.</summary>
    public async Task RebuildStandbysAsync(ServiceInstance instance, HaMember primary, CancellationToken cancellationToken)
    {
        foreach (var standby in await StandbysAsync(instance, cancellationToken))
        {
            var paths = layout.Member(instance, standby);
            if (Directory.Exists(paths.Root))
            {
                await layout.Runtime.StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
                await layout.Runtime.DeleteAsync(paths, cancellationToken);
            }

            await builder.BuildStandbyAsync(instance, standby, primary, Size(instance), cancellationToken);
            await members.SaveMemberAsync(standby with { Role = MemberRole.Standby, Detail = $"cloned from {primary.Name} after a restore", UpdatedAt = time.GetUtcNow() }, cancellationToken);
            registry.Set(instance.Id, standby.Name, new MemberView(DateTimeOffset.MinValue, "rebuilt after a restore", null, null, null));
        }
    }

    /// <summary>Synchronous replication on again, and the endpoint leading to the primary.</summary>
    public async Task LeadAsync(ServiceInstance instance, HaMember primary, CancellationToken cancellationToken)
    {
        var context = layout.Context(instance, primary);
        await builder.Replication(instance).ConfigureMemberAsync(context, layout.Role(instance, primary, primary, Size(instance)), cancellationToken);
        await builder.Replication(instance).ReloadAsync(context, cancellationToken);
        await proxy.RouteAsync(instance, HaFailover.Slots(await members.ListMembersAsync(instance.Id, cancellationToken)), primary, cancellationToken);
    }

    /// <summary>
    /// After a restore that failed before the restored server promoted: the primary back on its previous data (done
    /// by the caller), synchronous again, and the standbys, whose files were only stopped, started again.
    /// </summary>
    public async Task RestartAsBeforeAsync(ServiceInstance instance, HaMember primary, CancellationToken cancellationToken)
    {
        await builder.Replication(instance).ConfigureMemberAsync(layout.Context(instance, primary), layout.Role(instance, primary, primary, Size(instance)), cancellationToken);
        await builder.StartAsync(instance, primary, cancellationToken);
        foreach (var standby in await StandbysAsync(instance, cancellationToken))
        {
            await builder.StartAsync(instance, standby, cancellationToken);
        }

        await proxy.RouteAsync(instance, HaFailover.Slots(await members.ListMembersAsync(instance.Id, cancellationToken)), primary, cancellationToken);
    }

    private async Task<IReadOnlyList<HaMember>> StandbysAsync(ServiceInstance instance, CancellationToken cancellationToken) =>
        [.. (await members.ListMembersAsync(instance.Id, cancellationToken)).Where(m => m.Role is MemberRole.Standby or MemberRole.Building && !layout.IsFencedOnDisk(instance, m))];

    private int Size(ServiceInstance instance) => engines.Plan(instance.ServiceId, instance.PlanId).Members;
}

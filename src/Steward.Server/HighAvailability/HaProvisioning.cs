using System.Globalization;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.HighAvailability;

/// <summary>
/// The provisioning steps of a highly available instance: ports for the endpoint and every slot, the first
/// primary, its standbys cloned from it, synchronous replication switched on, then the stable endpoint.
/// Each step is idempotent, so a broker killed mid-way resumes it.
/// </summary>
internal sealed class HaProvisioning(
    IStateStore store,
    IHaMemberStore members,
    EngineRegistry engines,
    PortAllocator ports,
    HaLayout layout,
    HaMembers builder,
    IHaEndpoint proxy,
    HaRegistry registry,
    TimeProvider time)
{
    /// <summary>True when the instance's plan runs members instead of one server.</summary>
    public bool IsHighlyAvailable(ServiceInstance instance) => engines.HighlyAvailable(instance);

    public IReadOnlyList<Step> ProvisionSteps(string instanceId) =>
    [
        new("allocate", "allocating ports for the endpoint and the members", ct => AllocateAsync(instanceId, ct)),
        new("initialize", "creating the instance directory", ct => InitializeAsync(instanceId, ct)),
        new("primary", "creating and starting the primary", ct => PrimaryAsync(instanceId, ct)),
        new("standbys", "cloning the standbys from the primary", ct => StandbysAsync(instanceId, ct), Rerun: true),
        new("synchronous", "switching on synchronous replication", ct => SynchronousAsync(instanceId, ct), Rerun: true),
        new("endpoint", "starting the stable endpoint", ct => EndpointAsync(instanceId, ct), Rerun: true),
    ];

    /// <summary>
    /// Runs a credentials change (bind, unbind) where the instance keeps its users: its one server, or the
    /// primary through the endpoint when users replicate (PostgreSQL), or else every running member (Redis ACLs);
    /// a member missed here is reconciled when it is built or promoted.
    /// </summary>
    public async Task ForEachUserStoreAsync(ServiceInstance instance, Func<Steward.Engines.EngineContext, Task> action, CancellationToken cancellationToken)
    {
        if (!IsHighlyAvailable(instance) || builder.Replication(instance).UsersReplicate)
        {
            await action(engines.Context(instance));
            return;
        }

        var list = await members.ListMembersAsync(instance.Id, cancellationToken);
        var primary = list.FirstOrDefault(m => m.Role == MemberRole.Primary)
            ?? throw new InvalidOperationException($"instance {instance.Id} has no primary right now (a failover is under way); try again");
        await action(layout.Context(instance, primary));
        foreach (var standby in list.Where(m => m.Role == MemberRole.Standby && layout.Runtime.GetStatus(layout.Member(instance, m)) is Steward.Runtime.ProcessStatus.Running))
        {
            try
            {
                await action(layout.Context(instance, standby));
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Not answering: it gets the users when it is promoted or replaced.
            }
        }
    }

    /// <summary>Forgets the members of an instance whose files are gone (deleted, or a failed provision cleaned up).</summary>
    public async Task ForgetAsync(string instanceId, CancellationToken cancellationToken)
    {
        await members.DeleteMembersAsync(instanceId, cancellationToken);
        registry.Forget(instanceId);
    }

    private async Task AllocateAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(instanceId, cancellationToken);
        if (instance.Port is null)
        {
            await ports.AllocateAsync(async port => await store.SaveInstanceAsync(instance = instance with { Port = port, UpdatedAt = time.GetUtcNow() }, cancellationToken), cancellationToken);
        }

        var size = engines.Plan(instance.ServiceId, instance.PlanId).Members;
        var existing = await members.ListMembersAsync(instanceId, cancellationToken);
        for (var slot = 1; slot <= size; slot++)
        {
            if (existing.Any(m => m.Slot == slot))
            {
                continue;
            }

            var s = slot;
            await ports.AllocateAsync(
                port => members.SaveMemberAsync(
                    new HaMember
                    {
                        InstanceId = instanceId,
                        Name = "m" + s.ToString(CultureInfo.InvariantCulture),
                        Slot = s,
                        Port = port,
                        Role = MemberRole.Building,
                        Detail = "being created",
                        CreatedAt = time.GetUtcNow(),
                        UpdatedAt = time.GetUtcNow(),
                    },
                    cancellationToken),
                cancellationToken);
        }
    }

    private async Task InitializeAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(instanceId, cancellationToken);
        var root = layout.Runtime.PathsFor(instance.InternalId);
        if (layout.Places is not { } places)
        {
            await layout.Runtime.CreateDirectoriesAsync(root, cancellationToken);
            return;
        }

        // Only PostgreSQL's members are built and failed over on a runtime with member places (docs/kubernetes.md).
        if (!builder.Replication(instance).Synchronous)
        {
            throw new NotSupportedException($"{engines.Engine(instance.ServiceId).Offering.Name} ha plans do not run on Kubernetes yet (only PostgreSQL's do; docs/kubernetes.md#high-availability-on-kubernetes)");
        }

        await places.CreateGroupAsync(root, cancellationToken);
    }

    private async Task PrimaryAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(instanceId, cancellationToken);
        var list = await members.ListMembersAsync(instanceId, cancellationToken);
        var first = list.Single(m => m.Slot == 1);
        await builder.BuildPrimaryAsync(instance, first, list.Count, cancellationToken);
        await members.SaveMemberAsync(first with { Role = MemberRole.Primary, Detail = "first primary", UpdatedAt = time.GetUtcNow() }, cancellationToken);
    }

    private async Task StandbysAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(instanceId, cancellationToken);
        var list = await members.ListMembersAsync(instanceId, cancellationToken);
        var primary = list.Single(m => m.Role == MemberRole.Primary);
        foreach (var member in list.Where(m => m.Role == MemberRole.Building))
        {
            await builder.BuildStandbyAsync(instance, member, primary, list.Count, cancellationToken);
            await members.SaveMemberAsync(member with { Role = MemberRole.Standby, Detail = "cloned from " + primary.Name, UpdatedAt = time.GetUtcNow() }, cancellationToken);
        }
    }

    private async Task SynchronousAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(instanceId, cancellationToken);
        var list = await members.ListMembersAsync(instanceId, cancellationToken);
        var primary = list.Single(m => m.Role == MemberRole.Primary);
        var context = layout.Context(instance, primary);
        await builder.Replication(instance).ConfigureMemberAsync(context, layout.Role(instance, primary, primary, list.Count), cancellationToken);
        await builder.Replication(instance).ReloadAsync(context, cancellationToken);
    }

    private async Task EndpointAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = await InstanceAsync(instanceId, cancellationToken);
        var list = await members.ListMembersAsync(instanceId, cancellationToken);
        await proxy.EnsureRunningAsync(instance, list, list.Single(m => m.Role == MemberRole.Primary), cancellationToken);

        // Through the endpoint, as a client would: connect, and commit a write acknowledged by a standby.
        var engine = engines.Engine(instance.ServiceId);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                probe.CancelAfter(TimeSpan.FromSeconds(10));
                await engine.ProbeAsync(engines.Context(instance), probe.Token);
                return;
            }
            catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private async Task<ServiceInstance> InstanceAsync(string id, CancellationToken cancellationToken) =>
        await store.GetInstanceAsync(id, cancellationToken) ?? throw new InvalidOperationException($"instance {id} is missing");
}

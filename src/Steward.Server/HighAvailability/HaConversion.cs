using System.Globalization;
using Steward.Catalog;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.Server.Operations;

namespace Steward.Server.HighAvailability;

/// <summary>
/// Plan changes between a single-server plan and an <c>ha</c> plan of the same service (OSB update), keeping the
/// data: the single server's own files become the first primary (<c>members/m1</c>), and back, the primary's files
/// become the single server's. The instance keeps its port (the endpoint, then the server), so binding
/// credentials stay valid. The instance record changes plan only after the last step, so the supervisor and the
/// HA controller never see a layout that does not match the plan; every step is idempotent, so a broker killed
/// mid-way finishes the change at its next start.
/// </summary>
internal sealed class HaConversion(
    IHaMemberStore members,
    EngineRegistry engines,
    PortAllocator ports,
    HaLayout layout,
    HaMembers builder,
    IHaEndpoint proxy,
    HaRegistry registry,
    StewardOptions options,
    TimeProvider time)
{
    private static readonly string[] Parts = ["data", "config", "run", "log"];

    /// <summary>True when changing from <paramref name="from"/> to <paramref name="to"/> adds or removes members.</summary>
    public static bool Converts(ServicePlan from, ServicePlan to) => from.HighlyAvailable != to.HighlyAvailable;

    /// <summary>Single server → primary and standbys. <paramref name="current"/> is the instance as recorded (single server).</summary>
    public IReadOnlyList<Step> ToHighAvailabilitySteps(ServiceInstance current, ServiceInstance target)
    {
        var size = engines.Plan(target.ServiceId, target.PlanId).Members;
        return
        [
            new("ha-allocate", "allocating ports for the members", ct => AllocateAsync(target, size, ct)),
            // Not rerun once done: a stop sweeps up every process under the instance's directory, members included.
            new("ha-stop", "stopping the single server", ct => StopAsync(engines.Context(current), ct)),
            new("ha-move", "moving the server's files into the first member", async ct => await MoveAsync(Root(current), layout.Member(target, await FirstAsync(target, ct)), ct), Rerun: true),
            new("ha-primary", "starting m1 as the primary on its own port", ct => PrimaryAsync(target, size, ct), Rerun: true),
            new("ha-standbys", "cloning the standbys from the primary", ct => StandbysAsync(target, size, ct), Rerun: true),
            new("ha-synchronous", "switching on synchronous replication", ct => SynchronousAsync(target, size, ct), Rerun: true),
            new("ha-endpoint", "starting the stable endpoint on the instance's port", ct => EndpointAsync(target, ct), Rerun: true),
        ];
    }

    /// <summary>Primary and standbys → single server, from the primary's files. <paramref name="current"/> is the instance as recorded (ha).</summary>
    public IReadOnlyList<Step> ToSingleServerSteps(ServiceInstance current, ServiceInstance target, Func<ServiceInstance, CancellationToken, Task> ensureRunning) =>
    [
        new("sa-endpoint", "stopping the stable endpoint", async ct =>
        {
            if (Directory.Exists(layout.Proxy(current).Root))
            {
                await layout.Runtime.StopAsync(layout.Proxy(current), 15, options.StopGrace, ct);
                await layout.Runtime.DeleteAsync(layout.Proxy(current), ct);
            }
        }, Rerun: true),
        new("sa-standbys", "stopping and removing the standbys", ct => RemoveStandbysAsync(current, ct), Rerun: true),
        new("sa-stop", "stopping the primary cleanly", ct => StopPrimaryAsync(current, ct), Rerun: true),
        new("sa-move", "moving the primary's files to the instance", ct => MoveFromPrimaryAsync(current, ct), Rerun: true),
        new("sa-configure", "writing the single server's configuration", ct => engines.Engine(target.ServiceId).ConfigureAsync(engines.Context(target), ct), Rerun: true),
        new("sa-start", "starting the single server on the instance's port", ct => ensureRunning(target, ct), Rerun: true),
        new("sa-forget", "forgetting the members", async ct =>
        {
            await members.DeleteMembersAsync(current.Id, ct);
            registry.Forget(current.Id);
        }, Rerun: true),
    ];

    private InstancePaths Root(ServiceInstance instance) => layout.Runtime.PathsFor(instance.InternalId);

    private async Task<HaMember> FirstAsync(ServiceInstance instance, CancellationToken cancellationToken) =>
        (await members.ListMembersAsync(instance.Id, cancellationToken)).Single(m => m.Slot == 1 && m.Role != MemberRole.Fenced);

    private async Task AllocateAsync(ServiceInstance instance, int size, CancellationToken cancellationToken)
    {
        var existing = await members.ListMembersAsync(instance.Id, cancellationToken);
        for (var slot = 1; slot <= size; slot++)
        {
            if (existing.Any(m => m.Slot == slot))
            {
                continue;
            }

            var s = slot;
            var name = "m" + layout.NextMemberNumber(instance, existing).ToString(CultureInfo.InvariantCulture);
            await ports.AllocateAsync(
                port => members.SaveMemberAsync(
                    new HaMember
                    {
                        InstanceId = instance.Id,
                        Name = name,
                        Slot = s,
                        Port = port,
                        Role = MemberRole.Building,
                        Detail = s == 1 ? "the single server's files, becoming the primary" : "being created",
                        CreatedAt = time.GetUtcNow(),
                        UpdatedAt = time.GetUtcNow(),
                    },
                    cancellationToken),
                cancellationToken);
            existing = await members.ListMembersAsync(instance.Id, cancellationToken);
        }
    }

    private Task StopAsync(Steward.Engines.EngineContext context, CancellationToken cancellationToken) =>
        layout.Runtime.StopAsync(context.Paths, engines.Engine(context.Instance.ServiceId).Launch(context).StopSignal, options.StopGrace, cancellationToken);

    /// <summary>
    /// Moves data/, config/, run/ and log/ from one place to another, each once: a part already moved (its source
    /// gone) is skipped, an empty placeholder at the target is replaced. Ownership and modes travel with the
    /// directories (a rename on one file system).
    /// </summary>
    private async Task MoveAsync(InstancePaths from, InstancePaths to, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(to.Root))
        {
            // The member directory itself, owned by the service user like any instance directory; its empty
            // subdirectories are replaced by the moved ones below.
            await layout.Runtime.CreateDirectoriesAsync(to, cancellationToken);
        }

        foreach (var part in Parts)
        {
            var source = Path.Combine(from.Root, part);
            var target = Path.Combine(to.Root, part);
            if (!Directory.Exists(source))
            {
                continue;
            }

            if (Directory.Exists(target))
            {
                if (Directory.EnumerateFileSystemEntries(target).Any())
                {
                    throw new InvalidOperationException($"cannot move {source}: {target} exists and is not empty");
                }

                Directory.Delete(target);
            }

            Directory.Move(source, target);
        }
    }

    private async Task PrimaryAsync(ServiceInstance target, int size, CancellationToken cancellationToken)
    {
        var first = await FirstAsync(target, cancellationToken);
        var context = layout.Context(target, first);

        // The moved configuration names the old paths and port: written anew for the member.
        await engines.Engine(target.ServiceId).ConfigureAsync(context, cancellationToken);
        await builder.Replication(target).ConfigureMemberAsync(context, layout.Role(target, first, first, size, synchronous: false), cancellationToken);
        await builder.StartAsync(target, first with { Role = MemberRole.Primary }, cancellationToken);
        if (first.Role != MemberRole.Primary)
        {
            await members.SaveMemberAsync(first with { Role = MemberRole.Primary, Detail = "the single server's data, as the first primary", UpdatedAt = time.GetUtcNow() }, cancellationToken);
        }
    }

    private async Task StandbysAsync(ServiceInstance target, int size, CancellationToken cancellationToken)
    {
        var list = await members.ListMembersAsync(target.Id, cancellationToken);
        var primary = list.Single(m => m.Role == MemberRole.Primary);
        foreach (var member in list.Where(m => m.Role == MemberRole.Building))
        {
            await builder.BuildStandbyAsync(target, member, primary, size, cancellationToken);
            await members.SaveMemberAsync(member with { Role = MemberRole.Standby, Detail = "cloned from " + primary.Name, UpdatedAt = time.GetUtcNow() }, cancellationToken);
        }
    }

    private async Task SynchronousAsync(ServiceInstance target, int size, CancellationToken cancellationToken)
    {
        var primary = (await members.ListMembersAsync(target.Id, cancellationToken)).Single(m => m.Role == MemberRole.Primary);
        var context = layout.Context(target, primary);
        await builder.Replication(target).ConfigureMemberAsync(context, layout.Role(target, primary, primary, size), cancellationToken);
        await builder.Replication(target).ReloadAsync(context, cancellationToken);
    }

    private async Task EndpointAsync(ServiceInstance target, CancellationToken cancellationToken)
    {
        var list = await members.ListMembersAsync(target.Id, cancellationToken);
        await proxy.EnsureRunningAsync(target, HaFailover.Slots(list), list.Single(m => m.Role == MemberRole.Primary), cancellationToken);

        // Through the endpoint, as a client would.
        var engine = engines.Engine(target.ServiceId);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                probe.CancelAfter(TimeSpan.FromSeconds(10));
                await engine.ProbeAsync(engines.Context(target), probe.Token);
                return;
            }
            catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private async Task RemoveStandbysAsync(ServiceInstance current, CancellationToken cancellationToken)
    {
        foreach (var member in (await members.ListMembersAsync(current.Id, cancellationToken)).Where(m => m.Role is MemberRole.Standby or MemberRole.Building))
        {
            var paths = layout.Member(current, member);
            if (Directory.Exists(paths.Root))
            {
                await layout.Runtime.StopAsync(paths, 15, options.StopGrace, cancellationToken);
                await layout.Runtime.DeleteAsync(paths, cancellationToken);
            }
        }
    }

    private async Task StopPrimaryAsync(ServiceInstance current, CancellationToken cancellationToken)
    {
        var primary = (await members.ListMembersAsync(current.Id, cancellationToken)).SingleOrDefault(m => m.Role == MemberRole.Primary)
            ?? throw new InvalidOperationException($"instance {current.Id} has no primary to keep (a failover is under way); try again");
        var context = layout.Context(current, primary);
        if (Directory.Exists(context.Paths.Root))
        {
            await StopAsync(context, cancellationToken);
        }
    }

    private async Task MoveFromPrimaryAsync(ServiceInstance current, CancellationToken cancellationToken)
    {
        var primary = (await members.ListMembersAsync(current.Id, cancellationToken)).Single(m => m.Role == MemberRole.Primary);
        var root = Root(current);
        foreach (var part in Parts)
        {
            var source = Path.Combine(layout.Member(current, primary).Root, part);
            var target = Path.Combine(root.Root, part);
            if (!Directory.Exists(source))
            {
                continue;
            }

            if (Directory.Exists(target))
            {
                if (Directory.EnumerateFileSystemEntries(target).Any())
                {
                    throw new InvalidOperationException($"cannot move {source}: {target} exists and is not empty");
                }

                Directory.Delete(target);
            }

            Directory.Move(source, target);
        }

        // No more standbys to wait for, nothing to follow: the replication settings go with the members.
        File.Delete(Path.Combine(root.ConfigDir, "replication.conf"));
        File.Delete(Path.Combine(root.DataDir, "standby.signal"));
        await Task.CompletedTask;
    }
}

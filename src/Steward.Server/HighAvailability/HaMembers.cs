using Steward.Engines;
using Steward.Errors;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.Server.Operations;

namespace Steward.Server.HighAvailability;

/// <summary>
/// Builds, starts and configures members. A fenced member is never started, whatever asks: the durable role
/// and the FENCED file in its directory both say no.
/// </summary>
internal sealed class HaMembers(HaLayout layout, EngineRegistry engines, IEnumerable<IReplicationEngine> replications, Steward.State.IStateStore store, HaArchiving archiving, StewardOptions options, TimeProvider time)
{
    private readonly IReadOnlyList<IReplicationEngine> _replications = replications.ToList();

    public IReplicationEngine Replication(ServiceInstance instance) =>
        _replications.FirstOrDefault(r => r.ServiceId == instance.ServiceId)
        ?? throw new StewardException(ErrorCode.Internal, $"service {engines.Engine(instance.ServiceId).Offering.Name} has no replication for highly available plans");

    /// <summary>
    /// The synchronous settings every member shares: ANY 1 of the slots (a primary is never its own standby).
    /// Only the very first primary, before it has any standby, runs without: its bootstrap could not commit.
    /// </summary>
    public static ReplicationRole Role(HaMember member, HaMember? primary, int slots, bool synchronous = true) =>
        new(member.SlotName, member.Slot == primary?.Slot ? null : primary?.Port, synchronous ? [.. Enumerable.Range(1, slots).Select(s => $"node{s}")] : [], 1);

    /// <summary>Creates the member's files from nothing as the first primary: initdb, configuration, start, bootstrap.</summary>
    public async Task BuildPrimaryAsync(ServiceInstance instance, HaMember member, int slots, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        var context = layout.Context(instance, member);
        await layout.Runtime.CreateInstanceAsync(context.Paths, context.Shape, cancellationToken);
        await engine.InitializeAsync(context, cancellationToken);
        await engine.ConfigureAsync(context, cancellationToken);
        await Replication(instance).ConfigureMemberAsync(context, layout.Role(instance, member, member, slots, synchronous: false), cancellationToken);
        await StartAsync(instance, member, cancellationToken);
        await engine.BootstrapAsync(context, cancellationToken);
    }

    /// <summary>Creates the member's files from nothing as a standby cloned from <paramref name="primary"/>, starts it and waits until it answers.</summary>
    public async Task BuildStandbyAsync(ServiceInstance instance, HaMember member, HaMember primary, int slots, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        var context = layout.Context(instance, member);
        if (Directory.Exists(context.Paths.Root))
        {
            // A build cut short (a broker killed mid-way) may have left the member's server running: stopped before its files are replaced.
            await layout.Runtime.StopAsync(context.Paths, 9, TimeSpan.Zero, cancellationToken);
        }

        await layout.Runtime.CreateInstanceAsync(context.Paths, context.Shape, cancellationToken);
        await Replication(instance).CloneAsync(context, layout.Context(instance, primary), cancellationToken);
        await archiving.ShareSecretAsync(instance, primary, member, cancellationToken);
        await engine.ConfigureAsync(context, cancellationToken);
        await Replication(instance).ConfigureMemberAsync(context, layout.Role(instance, member, primary, slots), cancellationToken);
        await StartAsync(instance, member, cancellationToken);
        await ReconcileUsersAsync(instance, member, cancellationToken);
    }

    /// <summary>
    /// Where users do not replicate (Redis), gives the member exactly the instance's current bindings: a new
    /// standby, and a promoted one, which may have missed a bind or an unbind while it was down.
    /// </summary>
    public async Task ReconcileUsersAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        if (Replication(instance).UsersReplicate)
        {
            return;
        }

        var bindings = (await store.ListBindingsAsync(instance.Id, cancellationToken)).Where(b => b.State == BindingState.Created).ToList();
        await engines.Engine(instance.ServiceId).ReconcileCredentialsAsync(layout.Context(instance, member), bindings, cancellationToken);
    }

    /// <summary>Starts a member (if it is not running) and waits until it answers its protocol check.</summary>
    public async Task StartAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        if (member.Role == MemberRole.Fenced || layout.IsFencedOnDisk(instance, member))
        {
            throw new StewardException(ErrorCode.Internal, $"member {member.Name} is fenced: it is kept for inspection and never started again");
        }

        var engine = engines.Engine(instance.ServiceId);
        var context = layout.Context(instance, member);
        await layout.Runtime.StartAsync(context.Paths, engine.Launch(context), cancellationToken);
        await WaitReadyAsync(engine, context, cancellationToken);
    }

    /// <summary>Stops a member for good and marks its directory, so nothing starts it again; its files stay as they are.</summary>
    public async Task FenceAsync(ServiceInstance instance, HaMember member, string reason, CancellationToken cancellationToken)
    {
        var paths = layout.Member(instance, member);
        if (layout.Places is { } places)
        {
            // Its place is taken away (on Kubernetes: the StatefulSet scaled to zero, the pod deleted), its volume kept.
            await places.FenceAsync(paths, $"fenced at {time.GetUtcNow():O}: {reason}", cancellationToken);
            return;
        }

        if (Directory.Exists(paths.Root))
        {
            await File.WriteAllTextAsync(Path.Combine(paths.Root, HaLayout.FencedMarker), $"fenced at {time.GetUtcNow():O}\n{reason}\nSteward never starts this member again; data/, config/ and log/ are kept as they were for inspection.\n", cancellationToken);
        }

        // SIGKILL also ends a stopped (SIGSTOP) server and every backend it forked: a SIGCONT finds nothing to wake.
        await layout.Runtime.StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
    }

    private async Task WaitReadyAsync(IDataServiceEngine engine, EngineContext context, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(options.StartupTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        Exception? last = null;
        while (true)
        {
            var status = layout.Runtime.GetStatus(context.Paths);
            if (status is not ProcessStatus.Running)
            {
                throw new StewardException(ErrorCode.Internal, $"the server on port {context.Port} {ServerLog.Describe(status)} during startup; last log lines: {ServerLog.Tail(context.Paths)}");
            }

            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                probe.CancelAfter(TimeSpan.FromSeconds(5));
                await engine.ProbeAsync(context, probe.Token);
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(25), time, linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new StewardException(ErrorCode.Internal, $"the server on port {context.Port} did not answer within {options.StartupTimeout.TotalSeconds:0} s ({last?.Message}); last log lines: {ServerLog.Tail(context.Paths)}");
            }
        }
    }
}

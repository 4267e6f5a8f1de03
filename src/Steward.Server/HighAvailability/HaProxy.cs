using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;

namespace Steward.Server.HighAvailability;

/// <summary>
/// The stable endpoint of a highly available instance: an HAProxy (Debian's) on the instance's port that
/// forwards TCP to the primary's slot only. Every slot is a server line with a fixed port; Steward switches
/// which one is enabled through HAProxy's runtime API (admin socket) and rewrites the configuration file the
/// same way, so a restarted proxy comes back routing to the same primary. Connections to a slot taken out
/// of service are cut at once. A second frontend, the read-only endpoint, leads to the streaming standbys.
/// </summary>
internal sealed class HaProxy(HaLayout layout, IHaMemberStore members, Steward.Server.Operations.PortAllocator ports) : IHaEndpoint
{
    private const string Binary = "/usr/sbin/haproxy";
    private const string Backend = "primary";

    /// <summary>The read-only endpoint's backend: the streaming standbys (HaReadOnly.md: docs/high-availability.md#read-only-endpoint).</summary>
    private const string ReadOnlyBackend = "standbys";

    /// <summary>The slots the read-only endpoint leads to now, per instance (rebuilt at the first tick after a broker start).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlySet<int>> _readable = new();

    private static string Socket(InstancePaths proxy) => Path.Combine(proxy.RunDir, "admin.sock");

    private static string ConfigFile(InstancePaths proxy) => Path.Combine(proxy.ConfigDir, "haproxy.cfg");

    public bool IsRunning(ServiceInstance instance) => layout.Runtime.GetStatus(layout.Proxy(instance)) is ProcessStatus.Running;

    /// <summary>Writes the configuration for <paramref name="primary"/> and starts the proxy if it is not running.</summary>
    public async Task EnsureRunningAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember? primary, CancellationToken cancellationToken)
    {
        var paths = layout.Proxy(instance);
        if (!Directory.Exists(paths.RunDir))
        {
            await layout.Runtime.CreateDirectoriesAsync(paths, cancellationToken);
        }

        var readOnlyPort = await members.GetReadOnlyPortAsync(instance.Id, cancellationToken);
        if (readOnlyPort is null && layout.Runtime.GetStatus(paths) is not ProcessStatus.Running)
        {
            // Allocated when the proxy starts (a running proxy cannot bind another port): new instances get it at
            // their first start, older ones at their proxy's next start.
            readOnlyPort = await ports.AllocateAsync(port => members.SaveReadOnlyPortAsync(instance.Id, port, cancellationToken), cancellationToken);
        }

        await layout.Runtime.WriteFileAsync(ConfigFile(paths), Render(instance, paths, slots, primary, readOnlyPort, Readable(instance, primary)), cancellationToken);
        if (layout.Runtime.GetStatus(paths) is ProcessStatus.Running)
        {
            return;
        }

        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException("HAProxy is not installed (apt-get install haproxy, or sh scripts/install-deps.sh)");
        }

        await layout.Runtime.StartAsync(paths, new ProcessLaunch(Binary, ["-db", "-f", ConfigFile(paths)]) { StopSignal = 15 }, cancellationToken);
        for (var i = 0; i < 250 && !File.Exists(Socket(paths)); i++)
        {
            if (layout.Runtime.GetStatus(paths) is not ProcessStatus.Running)
            {
                throw new InvalidOperationException($"HAProxy ended at start: {Steward.Server.Operations.ServerLog.Tail(paths)}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>
    /// Leads the endpoint to <paramref name="primary"/> (null: to nobody) and cuts every connection to the
    /// other slots; the configuration file is rewritten first so a restart keeps the routing.
    /// </summary>
    public async Task RouteAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember? primary, CancellationToken cancellationToken)
    {
        var paths = layout.Proxy(instance);

        // The new primary leaves the read-only endpoint at once: a connection to it there would take writes.
        var readable = Readable(instance, primary);
        _readable[instance.Id] = readable;
        var readOnlyPort = await members.GetReadOnlyPortAsync(instance.Id, cancellationToken);
        await layout.Runtime.WriteFileAsync(ConfigFile(paths), Render(instance, paths, slots, primary, readOnlyPort, readable), cancellationToken);
        if (layout.Runtime.GetStatus(paths) is not ProcessStatus.Running)
        {
            await EnsureRunningAsync(instance, slots, primary, cancellationToken);
            return;
        }

        var commands = new StringBuilder();
        foreach (var slot in slots.Where(s => s.Slot != primary?.Slot))
        {
            commands.Append(CultureInfo.InvariantCulture, $"set server {Backend}/{slot.SlotName} state maint; shutdown sessions server {Backend}/{slot.SlotName}; ");
        }

        if (readOnlyPort is not null && primary is not null)
        {
            commands.Append(CultureInfo.InvariantCulture, $"set server {ReadOnlyBackend}/{primary.SlotName} state maint; shutdown sessions server {ReadOnlyBackend}/{primary.SlotName}; ");
        }

        if (primary is not null)
        {
            commands.Append(CultureInfo.InvariantCulture, $"set server {Backend}/{primary.SlotName} state ready; ");
        }

        await CommandAsync(paths, commands.ToString(), cancellationToken);
    }

    /// <summary>Takes one slot out of service and cuts its connections (fencing), leaving the others as they are.</summary>
    public async Task CutAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        var paths = layout.Proxy(instance);
        if (layout.Runtime.GetStatus(paths) is ProcessStatus.Running)
        {
            var readOnly = await members.GetReadOnlyPortAsync(instance.Id, cancellationToken) is null
                ? string.Empty
                : $"; set server {ReadOnlyBackend}/{member.SlotName} state maint; shutdown sessions server {ReadOnlyBackend}/{member.SlotName}";
            if (_readable.TryGetValue(instance.Id, out var current))
            {
                _readable[instance.Id] = current.Where(s => s != member.Slot).ToHashSet();
            }

            await CommandAsync(paths, $"set server {Backend}/{member.SlotName} state maint; shutdown sessions server {Backend}/{member.SlotName}{readOnly}", cancellationToken);
        }
    }

    /// <summary>
    /// Takes a standby about to be promoted out of the read-only endpoint and cuts its connections there, before it
    /// takes writes. Best effort: the endpoint must never hold up a failover.
    /// </summary>
    public async Task LeaveReadOnlyAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        var paths = layout.Proxy(instance);
        try
        {
            if (layout.Runtime.GetStatus(paths) is ProcessStatus.Running && await members.GetReadOnlyPortAsync(instance.Id, cancellationToken) is not null)
            {
                if (_readable.TryGetValue(instance.Id, out var current))
                {
                    _readable[instance.Id] = current.Where(s => s != member.Slot).ToHashSet();
                }

                await CommandAsync(paths, $"set server {ReadOnlyBackend}/{member.SlotName} state maint; shutdown sessions server {ReadOnlyBackend}/{member.SlotName}", cancellationToken);
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The routing after the promotion takes it out again (RouteAsync), and rewrites the configuration.
        }
    }

    /// <summary>
    /// Leads the read-only endpoint to exactly the slots in <paramref name="streaming"/> (the standbys streaming now,
    /// never the primary): a slot that stopped streaming leaves it and its connections are cut; one that streams
    /// again joins it. Nothing is done when the set is unchanged or the instance has no read-only endpoint.
    /// </summary>
    public async Task ReadOnlyAsync(ServiceInstance instance, IReadOnlyList<HaMember> slots, HaMember primary, IReadOnlySet<int> streaming, CancellationToken cancellationToken)
    {
        var paths = layout.Proxy(instance);
        var target = streaming.Where(s => s != primary.Slot).ToHashSet();
        if ((_readable.TryGetValue(instance.Id, out var current) && current.SetEquals(target))
            || layout.Runtime.GetStatus(paths) is not ProcessStatus.Running
            || await members.GetReadOnlyPortAsync(instance.Id, cancellationToken) is not { } readOnlyPort)
        {
            return;
        }

        await layout.Runtime.WriteFileAsync(ConfigFile(paths), Render(instance, paths, slots, primary, readOnlyPort, target), cancellationToken);
        var commands = new StringBuilder();
        foreach (var slot in slots)
        {
            commands.Append(target.Contains(slot.Slot)
                ? $"set server {ReadOnlyBackend}/{slot.SlotName} state ready; "
                : $"set server {ReadOnlyBackend}/{slot.SlotName} state maint; shutdown sessions server {ReadOnlyBackend}/{slot.SlotName}; ");
        }

        await CommandAsync(paths, commands.ToString(), cancellationToken);
        _readable[instance.Id] = target;
    }

    /// <summary>The slots the read-only endpoint may lead to, short of the primary's.</summary>
    private IReadOnlySet<int> Readable(ServiceInstance instance, HaMember? primary) =>
        _readable.TryGetValue(instance.Id, out var current) ? current.Where(s => s != primary?.Slot).ToHashSet() : new HashSet<int>();

    private static async Task<string> CommandAsync(InstancePaths paths, string commands, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Socket(paths)), cancellationToken);
        await socket.SendAsync(Encoding.ASCII.GetBytes(commands.TrimEnd(' ', ';') + "\n"), cancellationToken);
        var reply = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, cancellationToken)) > 0)
        {
            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var text = reply.ToString().Trim();
        if (text.Contains("No such", StringComparison.Ordinal) || text.Contains("Unknown command", StringComparison.Ordinal) || text.Contains("denied", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"HAProxy refused '{commands}': {text}");
        }

        return text;
    }

    private static string Render(ServiceInstance instance, InstancePaths paths, IReadOnlyList<HaMember> slots, HaMember? primary, int? readOnlyPort, IReadOnlySet<int> readable)
    {
        var config = new StringBuilder()
            .AppendLine("# Written by Steward: the stable endpoint of this instance leads to the primary only.")
            .AppendLine("global")
            .AppendLine(CultureInfo.InvariantCulture, $"    stats socket {Socket(paths)} mode 600 level admin")
            .AppendLine("    maxconn 4000")
            .AppendLine("defaults")
            .AppendLine("    mode tcp")
            .AppendLine("    timeout connect 1s")
            .AppendLine("    timeout client 24h")
            .AppendLine("    timeout server 24h")

            // A refused connection fails the client at once instead of being retried on the same (dead) server after
            // HAProxy's 1 s turn-around, three times: the client's own retry then reaches whatever Steward routes to
            // by then — the new primary once promoted (docs/high-availability.md#clients-during-a-failover).
            .AppendLine("    retries 0")
            .AppendLine("frontend endpoint")
            .AppendLine(CultureInfo.InvariantCulture, $"    bind 127.0.0.1:{instance.Port}")
            .AppendLine(CultureInfo.InvariantCulture, $"    default_backend {Backend}")
            .AppendLine(CultureInfo.InvariantCulture, $"backend {Backend}");
        foreach (var slot in slots.OrderBy(s => s.Slot))
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"    server {slot.SlotName} 127.0.0.1:{slot.Port}{(slot.Slot == primary?.Slot ? string.Empty : " disabled")}");
        }

        if (readOnlyPort is { } ro)
        {
            // The read-only endpoint: the streaming standbys, the least busy first; none enabled refuses connections.
            config
                .AppendLine("frontend readonly")
                .AppendLine(CultureInfo.InvariantCulture, $"    bind 127.0.0.1:{ro}")
                .AppendLine(CultureInfo.InvariantCulture, $"    default_backend {ReadOnlyBackend}")
                .AppendLine(CultureInfo.InvariantCulture, $"backend {ReadOnlyBackend}")
                .AppendLine("    balance leastconn")

                // Any streaming standby will do: a refused connection is retried at once on another one.
                .AppendLine("    retries 1")
                .AppendLine("    option redispatch 1");
            foreach (var slot in slots.OrderBy(s => s.Slot))
            {
                config.AppendLine(CultureInfo.InvariantCulture, $"    server {slot.SlotName} 127.0.0.1:{slot.Port}{(readable.Contains(slot.Slot) && slot.Slot != primary?.Slot ? string.Empty : " disabled")}");
            }
        }

        return config.ToString();
    }
}

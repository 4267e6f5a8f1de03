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
/// of service are cut at once.
/// </summary>
internal sealed class HaProxy(HaLayout layout)
{
    private const string Binary = "/usr/sbin/haproxy";
    private const string Backend = "primary";

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

        await layout.Runtime.WriteFileAsync(ConfigFile(paths), Render(instance, paths, slots, primary), cancellationToken);
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
        await layout.Runtime.WriteFileAsync(ConfigFile(paths), Render(instance, paths, slots, primary), cancellationToken);
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
            await CommandAsync(paths, $"set server {Backend}/{member.SlotName} state maint; shutdown sessions server {Backend}/{member.SlotName}", cancellationToken);
        }
    }

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

    private static string Render(ServiceInstance instance, InstancePaths paths, IReadOnlyList<HaMember> slots, HaMember? primary)
    {
        var config = new StringBuilder()
            .AppendLine("# Written by Steward: the stable endpoint of this instance leads to the primary only.")
            .AppendLine("global")
            .AppendLine(CultureInfo.InvariantCulture, $"    stats socket {Socket(paths)} mode 600 level admin")
            .AppendLine("    maxconn 4000")
            .AppendLine("defaults")
            .AppendLine("    mode tcp")
            .AppendLine("    timeout connect 2s")
            .AppendLine("    timeout client 24h")
            .AppendLine("    timeout server 24h")
            .AppendLine("frontend endpoint")
            .AppendLine(CultureInfo.InvariantCulture, $"    bind 127.0.0.1:{instance.Port}")
            .AppendLine(CultureInfo.InvariantCulture, $"    default_backend {Backend}")
            .AppendLine(CultureInfo.InvariantCulture, $"backend {Backend}");
        foreach (var slot in slots.OrderBy(s => s.Slot))
        {
            config.AppendLine(CultureInfo.InvariantCulture, $"    server {slot.SlotName} 127.0.0.1:{slot.Port}{(slot.Slot == primary?.Slot ? string.Empty : " disabled")}");
        }

        return config.ToString();
    }
}

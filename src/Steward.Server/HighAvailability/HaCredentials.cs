using System.Globalization;
using Steward.HighAvailability;
using Steward.Server.Operations;
using Steward.Instances;

namespace Steward.Server.HighAvailability;

/// <summary>
/// Adds to a highly available instance's credentials what a client needs to follow the primary without the
/// endpoint: every slot's address (the slot ports never change) and, for PostgreSQL, a multi-host URI with
/// <c>target_session_attrs=read-write</c>. The stable endpoint stays the default <c>uri</c>/<c>host</c>/<c>port</c>.
/// </summary>
internal sealed class HaCredentials(IHaMemberStore members, EngineRegistry engines, HaLayout layout)
{
    public async Task<Dictionary<string, object>> DecorateAsync(ServiceInstance instance, Dictionary<string, object> credentials, CancellationToken cancellationToken)
    {
        if (!engines.HighlyAvailable(instance))
        {
            return credentials;
        }

        // Each slot's address: loopback beside the broker; on Kubernetes the member's own Service (a replaced member has another).
        var slots = HaFailover.Slots(await members.ListMembersAsync(instance.Id, cancellationToken));
        var hosts = string.Join(",", slots.Select(m => (layout.Places is null ? "127.0.0.1" : layout.Runtime.ClientHost(layout.Member(instance, m))) + ":" + m.Port.ToString(CultureInfo.InvariantCulture)));
        credentials["members"] = hosts;
        var readOnlyPort = await members.GetReadOnlyPortAsync(instance.Id, cancellationToken);
        if (credentials.TryGetValue("uri", out var uri) && uri is string u && u.Contains("://", StringComparison.Ordinal))
        {
            var at = u.LastIndexOf('@');
            var slash = u.IndexOf('/', at);
            if (u.StartsWith("postgresql://", StringComparison.Ordinal))
            {
                credentials["multihost_uri"] = $"{u[..(at + 1)]}{hosts}{u[slash..]}?target_session_attrs=read-write";
            }

            if (readOnlyPort is { } ro)
            {
                // The read-only endpoint: the streaming standbys, following failovers (never the primary).
                var roText = ro.ToString(CultureInfo.InvariantCulture);
                var roHost = layout.Places?.ReadOnlyHost(layout.Runtime.PathsFor(instance.InternalId)) ?? "127.0.0.1";
                credentials["ro_host"] = roHost;
                credentials["ro_port"] = ro;
                credentials["ro_uri"] = $"{u[..(at + 1)]}{roHost}:{roText}{(slash < 0 ? string.Empty : u[slash..])}";
            }
        }

        return credentials;
    }
}

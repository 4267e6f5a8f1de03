using Steward.Engines;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Operations;

namespace Steward.Server.HighAvailability;

/// <summary>
/// Where a backup of an instance is read from. An ha instance's backup is offloaded to a standby (pg_basebackup
/// runs against a standby natively, as pgBackRest's <c>backup-standby</c> and CloudNativePG's
/// <c>target: prefer-standby</c> do): the streaming standby least behind that answers as a standby now. Without one,
/// the primary. The manifest says which member it was and why.
/// </summary>
internal sealed class HaBackups(EngineRegistry engines, IHaMemberStore members, HaLayout layout, HaMembers builder, HaRegistry registry, HaOptions options)
{
    /// <summary>The server to back up and what the manifest records about it (nothing for a single-server plan).</summary>
    public async Task<(EngineContext Context, IReadOnlyDictionary<string, string> Properties)> SourceAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        if (!engines.HighlyAvailable(instance))
        {
            return (engines.Context(instance), new Dictionary<string, string>());
        }

        var list = await members.ListMembersAsync(instance.Id, cancellationToken);
        var standbys = list
            .Where(m => m.Role == MemberRole.Standby && registry.Get(instance.Id, m.Name) is { State: "streaming" })
            .OrderBy(m => registry.Get(instance.Id, m.Name)?.LagBytes ?? long.MaxValue)
            .ToList();
        var why = standbys.Count == 0 ? "no standby is streaming" : null;
        foreach (var standby in standbys)
        {
            var context = layout.Context(instance, standby);
            if (layout.Runtime.GetStatus(context.Paths) is not ProcessStatus.Running)
            {
                why = $"standby {standby.Name} is not running";
                continue;
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.CheckTimeout);
                if ((await builder.Replication(instance).ObserveAsync(context, timeout.Token)).InRecovery)
                {
                    return (context, Describe(standby, "standby", null));
                }

                why = $"standby {standby.Name} is no longer in recovery";
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                why = $"standby {standby.Name} does not answer ({ex.Message})";
            }
        }

        var primary = list.FirstOrDefault(m => m.Role == MemberRole.Primary);
        return primary is null
            ? (engines.Context(instance), new Dictionary<string, string> { ["ha_role"] = "endpoint", ["ha_fallback"] = (why ?? "no standby") + "; no primary is recorded either, so the backup is read through the endpoint" })
            : (layout.Context(instance, primary), Describe(primary, "primary", why));
    }

    private static Dictionary<string, string> Describe(HaMember member, string role, string? fallback)
    {
        var properties = new Dictionary<string, string>
        {
            ["ha_member"] = member.Name,
            ["ha_role"] = role,
            ["ha_port"] = member.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (fallback is not null)
        {
            properties["ha_fallback"] = fallback + "; backed up from the primary";
        }

        return properties;
    }
}

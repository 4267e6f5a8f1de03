using Steward.Engines;
using Steward.Engines.PostgreSql.Wal;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Operations;

namespace Steward.Server.HighAvailability;

/// <summary>
/// WAL archiving of a highly available instance: every member archives (<c>archive_mode = always</c>) into the
/// instance's one archive with the instance's one archive secret, which each member's <c>config/</c> holds a copy
/// of (given to a member when it is built, from the primary it is cloned from). The broker stores the first copy
/// of a segment and acknowledges the byte-identical others (docs/high-availability.md#wal-archiving).
/// </summary>
internal sealed class HaArchiving(EngineRegistry engines, IHaMemberStore members, HaLayout layout)
{
    /// <summary>
    /// The servers whose archiving an instance is measured by, primary first: the single server of a standalone
    /// instance; every running, non-fenced member of an ha instance (each keeps the WAL it has not archived yet).
    /// </summary>
    public async Task<IReadOnlyList<EngineContext>> ArchivingServersAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        if (!engines.HighlyAvailable(instance))
        {
            return [engines.Context(instance)];
        }

        return [.. (await members.ListMembersAsync(instance.Id, cancellationToken))
            .Where(m => m.Role is MemberRole.Primary or MemberRole.Standby)
            .OrderBy(m => m.Role == MemberRole.Primary ? 0 : 1)
            .Select(m => layout.Context(instance, m))
            .Where(c => layout.Runtime.GetStatus(c.Paths) is ProcessStatus.Running)];
    }

    /// <summary>
    /// Every configuration that may hold the instance's archive secret: the instance's own and, on an ha plan (or
    /// while one is being converted), each member's. A fenced member's copy is not accepted: nothing of it runs.
    /// </summary>
    public async Task<IReadOnlyList<EngineContext>> SecretHoldersAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var list = new List<EngineContext> { engines.Context(instance) };
        foreach (var member in await members.ListMembersAsync(instance.Id, cancellationToken))
        {
            if (member.Role != MemberRole.Fenced && !layout.IsFencedOnDisk(instance, member))
            {
                list.Add(layout.Context(instance, member));
            }
        }

        return list;
    }

    /// <summary>Whether <paramref name="token"/> is the instance's archive secret (held by the instance or by one of its live members).</summary>
    public async Task<bool> VerifyAsync(ServiceInstance instance, string? token, CancellationToken cancellationToken)
    {
        foreach (var holder in await SecretHoldersAsync(instance, cancellationToken))
        {
            if (WalHelper.Verify(holder, token))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Gives a member being built the archive secret of the member it is cloned from, before its configuration is
    /// written (which would otherwise create a secret of its own): every member pushes with the same secret.
    /// </summary>
    public async Task ShareSecretAsync(ServiceInstance instance, HaMember from, HaMember to, CancellationToken cancellationToken)
    {
        var source = Path.Combine(layout.Member(instance, from).ConfigDir, WalHelper.HeaderName);
        if (File.Exists(source))
        {
            await layout.Runtime.WriteFileAsync(Path.Combine(layout.Member(instance, to).ConfigDir, WalHelper.HeaderName), await File.ReadAllTextAsync(source, cancellationToken), cancellationToken);
        }
    }
}

using Steward.Backups;
using Steward.Engines.PostgreSql;
using Steward.Server.Backups.Wal;
using Steward.Errors;
using Steward.Instances;
using Steward.Security;

namespace Steward.Server.Broker;

/// <summary>Clone: who may copy whose data, and from which backup.</summary>
internal sealed partial class InstanceBroker
{
    /// <summary>
    /// The backup a clone restores. A clone copies someone's data, so the platform's word is not enough: the source
    /// must belong to the same organization and space as the new instance, or the request must carry one of the
    /// source's instance tokens. Anything else is refused (404 for a source the caller may not see) and nothing is
    /// created.
    /// </summary>
    private async Task<(BackupRecord Backup, PointInTimePayload? PointInTime)> CloneSourceAsync(CloneRequest clone, string serviceId, string planId, string organization, string space, CancellationToken cancellationToken)
    {
        HighAvailability.HaRules.RequireClonableInto(engines.Plan(serviceId, planId));
        var source = await store.GetInstanceAsync(clone.InstanceId, cancellationToken);
        var visible = source is not null && source.State is InstanceState.Ready or InstanceState.Quarantined;
        var sameSpace = visible && source!.OrganizationGuid == organization && source.SpaceGuid == space;
        var tokenOfSource = visible && clone.Token is { } token
            && await store.FindBindingByTokenHashAsync(Secrets.TokenHash(token), cancellationToken) is { } binding && binding.InstanceId == source!.Id;
        if (!visible || !(sameSpace || tokenOfSource))
        {
            throw StewardException.NotFound(clone.Token is null && visible
                ? $"instance {clone.InstanceId} to clone from is in another organization or space; pass its instance token (clone_from.token) to clone it"
                : $"instance {clone.InstanceId} to clone from does not exist{(clone.Token is null ? string.Empty : " or the token is not one of its own")}");
        }

        if (source!.ServiceId != serviceId)
        {
            throw StewardException.BadRequest($"instance {clone.InstanceId} is another service; a clone is of the same service");
        }

        if (clone.Target is { } target)
        {
            if (engines.Engine(serviceId) is not PostgreSqlEngine { WalOptions: not null })
            {
                throw StewardException.BadRequest($"instance {source.Id} has no archived WAL to clone it at {target.Describe()}: a point in time needs PostgreSQL with WAL archiving; clone a backup (backup_id) instead");
            }

            var plan = await planner.PlanAsync(source.Id, target, cancellationToken);
            return (await store.GetBackupAsync(plan.BackupId, cancellationToken) ?? throw new InvalidOperationException($"backup {plan.BackupId} is gone"), plan);
        }

        if (clone.BackupId is { } backupId)
        {
            var chosen = await store.GetBackupAsync(backupId, cancellationToken);
            if (chosen is null || chosen.InstanceId != source.Id)
            {
                throw StewardException.NotFound($"instance {source.Id} has no backup {backupId}");
            }

            return chosen.State == BackupState.Succeeded ? (chosen, null) : throw StewardException.BadRequest($"backup {backupId} did not succeed; only a succeeded backup can be cloned");
        }

        return ((await store.ListBackupsAsync(source.Id, cancellationToken)).FirstOrDefault(b => b.State == BackupState.Succeeded)
            ?? throw StewardException.BadRequest($"instance {source.Id} has no succeeded backup to clone from; back it up first"), null);
    }
}

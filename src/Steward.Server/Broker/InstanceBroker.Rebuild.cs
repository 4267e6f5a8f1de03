using System.Text.Json;
using Steward.Backups;
using Steward.Engines.PostgreSql;
using Steward.Server.Backups.Wal;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Security;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.Supervision;

namespace Steward.Server.Broker;

/// <summary>Rebuild: the rules for starting one (REST, CLI and OSB update all come here).</summary>
internal sealed partial class InstanceBroker
{
    /// <summary>
    /// Starts a rebuild of <paramref name="id"/>: from a healthy, failed or quarantined state alike, never while
    /// another operation or a backup of it runs, and never without something to restore unless an empty
    /// instance is asked for explicitly. Nothing changes when it is refused.
    /// </summary>
    public async Task<IResult> RebuildAsync(string id, RebuildRequest request, RequestIdentity identity, CancellationToken cancellationToken)
    {
        var (op, backupId, target, incidentId) = await StartRebuildAsync(id, request, identity, cancellationToken);
        return OsbJson.Result(new { operation = op.Id, backup_id = backupId, target, incident_id = incidentId }, StatusCodes.Status202Accepted);
    }

    /// <summary>A rebuild the broker starts itself (<see cref="Rebuild.AutoRebuilder"/>) to the latest recoverable point; returns its operation id.</summary>
    public async Task<string> StartAutomaticRebuildAsync(string id, string reason, CancellationToken cancellationToken)
    {
        var (op, _, _, _) = await StartRebuildAsync(id, RebuildRequest.Latest with { Reason = reason }, new RequestIdentity("steward auto-rebuild", null), cancellationToken);
        return op.Id;
    }

    /// <summary>The OSB update form: the spec's 202 body, the operation only.</summary>
    private async Task<IResult> RebuildThroughUpdateAsync(string id, RebuildRequest request, RequestIdentity identity, CancellationToken cancellationToken)
    {
        var (op, _, _, _) = await StartRebuildAsync(id, request, identity, cancellationToken);
        return OsbJson.Result(new { operation = op.Id }, StatusCodes.Status202Accepted);
    }

    private async Task<(Operation Op, string? BackupId, string? Target, string IncidentId)> StartRebuildAsync(string id, RebuildRequest request, RequestIdentity identity, CancellationToken cancellationToken)
    {
        RequireValidId("instance_id", id);
        using var _ = await gate.AcquireAsync(cancellationToken);
        var instance = await LiveInstanceAsync(id, cancellationToken);
        await RequireNoOperationAsync(instance, cancellationToken);
        if (instance.State is not (InstanceState.Ready or InstanceState.Quarantined))
        {
            throw StewardException.Concurrency($"instance {id} is {instance.State.ToString().ToLowerInvariant()}; only a provisioned instance can be rebuilt");
        }

        if (backups.IsRunning(id))
        {
            throw StewardException.Concurrency($"a backup of instance {id} is running; rebuild once it has finished");
        }

        HighAvailability.HaRules.RequireRebuildable(engines.Plan(instance.ServiceId, instance.PlanId));

        var (backup, pointInTime) = await RebuildSourceAsync(instance, request, cancellationToken);

        // The incident the rebuild is recorded in: the instance's quarantine (it says "rebuild or delete it") or another
        // unresolved failure of its server, or a new one. Failures of its backups or WAL archiving are theirs to resolve.
        var unresolved = (await store.ListIncidentsAsync(id, cancellationToken))
            .Where(i => i.State != IncidentState.Resolved && i.Class is not (FailureClass.BackupFailed or FailureClass.WalArchiveBehind or FailureClass.BackupNotRestorable))
            .ToList();
        var open = unresolved.FirstOrDefault(i => i.State == IncidentState.Quarantined) ?? unresolved.FirstOrDefault();
        var incidentId = open?.Id ?? "inc-" + Secrets.Token(12);
        var what = backup is null ? "empty rebuild requested" : $"rebuild from backup {backup.Id}{(pointInTime is null ? string.Empty : $" to {pointInTime.Target}")} requested";
        var op = operations.Create(id, null, OperationKind.Rebuild, what, identity);
        op = op with { PayloadJson = JsonSerializer.Serialize(new RebuildPayload(backup?.Id, request.Empty, request.Reason, incidentId, $"{instance.InternalId}.{op.Id}", pointInTime)) };
        await store.SaveOperationAsync(op, cancellationToken);
        runner.Enqueue(op);
        return (op, backup?.Id, pointInTime?.Description, incidentId);
    }

    /// <summary>
    /// The backup a rebuild restores and, for PostgreSQL with WAL archiving, the point its archived WAL is replayed
    /// to. By default the latest recoverable point: the newest base backup and every archived segment after it (or,
    /// without a WAL chain, the newest backup as it is).
    /// </summary>
    private async Task<(BackupRecord? Backup, PointInTimePayload? PointInTime)> RebuildSourceAsync(ServiceInstance instance, RebuildRequest request, CancellationToken cancellationToken)
    {
        if (request.Empty)
        {
            return (null, null);
        }

        var archives = engines.Engine(instance.ServiceId) is PostgreSqlEngine { WalOptions: not null };
        if (request.Target is { } target)
        {
            if (!archives)
            {
                throw StewardException.BadRequest($"instance {instance.Id} has no archived WAL to replay to {target.Describe()}: a point in time needs PostgreSQL with WAL archiving; rebuild from a backup (backup_id) or the latest one instead");
            }

            var plan = await planner.PlanAsync(instance.Id, target, cancellationToken);
            return (await store.GetBackupAsync(plan.BackupId, cancellationToken), plan);
        }

        if (request.BackupId is null && archives)
        {
            var newest = (await store.ListBackupsAsync(instance.Id, cancellationToken)).FirstOrDefault(b => b.State == BackupState.Succeeded);
            try
            {
                var plan = await planner.PlanAsync(instance.Id, new RecoveryTarget(RecoveryTargetKind.Latest), cancellationToken);
                if (plan.Point is not { } point || newest?.CompletedAt is not { } completed || point >= completed)
                {
                    return (await store.GetBackupAsync(plan.BackupId, cancellationToken), plan);
                }
            }
            catch (StewardException ex) when (ex.Code == ErrorCode.BadRequest)
            {
                // No base backup followed by a complete WAL chain: the newest backup as it is.
            }
        }

        if (request.BackupId is { } backupId)
        {
            var chosen = await store.GetBackupAsync(backupId, cancellationToken);
            if (chosen is null || chosen.InstanceId != instance.Id)
            {
                throw StewardException.NotFound($"instance {instance.Id} has no backup {backupId}");
            }

            return chosen.State == BackupState.Succeeded
                ? (chosen, null)
                : throw StewardException.BadRequest($"backup {backupId} {(chosen.State == BackupState.Failed ? "failed" : "is not complete")}; only a succeeded backup can be rebuilt from");
        }

        return ((await store.ListBackupsAsync(instance.Id, cancellationToken)).FirstOrDefault(b => b.State == BackupState.Succeeded)
            ?? throw StewardException.BadRequest($"instance {instance.Id} has no succeeded backup to rebuild from: back it up first, or ask for an empty rebuild (\"empty\": true), which starts it with no data at all"), null);
    }
}

using System.Globalization;
using Microsoft.Extensions.Options;
using Steward.Backups;
using Steward.Engines.PostgreSql;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Server.Backups.Wal;
using Steward.Server.Broker;
using Steward.Server.Operations;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Rebuild;

/// <summary>
/// Rebuilds quarantined instances of the plans that opted in (<see cref="AutoRebuildOptions"/>), at their latest
/// recoverable point, as their developer's <c>steward rebuild</c> would. It reads the quarantines from the state
/// store, so one that happened while the broker was down is handled after its start; every decision is written
/// into the quarantine's incident (<see cref="AutoRebuildPolicy.Started"/> or, once, <see cref="AutoRebuildPolicy.Skipped"/>
/// with the reason), and an automatic rebuild is counted in the budget before it starts, so a crash never lets one
/// exceed it.
/// </summary>
internal sealed partial class AutoRebuilder(
    IStateStore store,
    EngineRegistry engines,
    InstanceBroker broker,
    RecoveryPlanner planner,
    IOptions<AutoRebuildOptions> options,
    TimeProvider time,
    ILogger<AutoRebuilder> logger) : BackgroundService
{
    private readonly AutoRebuildPolicy _policy = new(options.Value);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.PlanSet.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.IntervalMs), time);
        do
        {
            try
            {
                await PassAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Looks at every quarantined instance of an opted-in plan once.</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        foreach (var instance in (await store.ListInstancesAsync(cancellationToken)).Where(i => i.State == InstanceState.Quarantined))
        {
            var servicePlan = $"{engines.Engine(instance.ServiceId).Offering.Name}/{engines.Plan(instance.ServiceId, instance.PlanId).Name}";
            if (!_policy.OptedIn(servicePlan)
                || await store.LatestInstanceOperationAsync(instance.Id, cancellationToken) is { State: OperationState.InProgress })
            {
                continue;
            }

            var incidents = await store.ListIncidentsAsync(instance.Id, cancellationToken);
            if (incidents.FirstOrDefault(i => i.State == IncidentState.Quarantined) is not { } quarantine
                || quarantine.Timeline.Any(e => e.Kind == AutoRebuildPolicy.Skipped))
            {
                continue;
            }

            var now = time.GetUtcNow();
            var point = await RecoveryPointAsync(instance, cancellationToken);
            if (_policy.WhyNot(quarantine, incidents, point, now) is { } why)
            {
                await store.SaveIncidentAsync(quarantine.With(now, AutoRebuildPolicy.Skipped, $"not rebuilt automatically: {why}"), cancellationToken);
                LogSkipped(logger, instance.Id, why);
                continue;
            }

            var reason = string.Create(CultureInfo.InvariantCulture, $"automatic rebuild of a {quarantine.Class.Name()} quarantine (plan {servicePlan} opts in; recovery point {point:u})");
            await store.SaveIncidentAsync(quarantine.With(now, AutoRebuildPolicy.Started, reason), cancellationToken);
            try
            {
                var operation = await broker.StartAutomaticRebuildAsync(instance.Id, reason, cancellationToken);
                LogStarted(logger, instance.Id, operation, quarantine.Id);
            }
            catch (StewardException ex)
            {
                var latest = await store.GetIncidentAsync(quarantine.Id, cancellationToken) ?? quarantine;
                await store.SaveIncidentAsync(latest.With(time.GetUtcNow(), AutoRebuildPolicy.Skipped, $"the automatic rebuild was refused: {ex.Message}"), cancellationToken);
                LogSkipped(logger, instance.Id, ex.Message);
            }
        }
    }

    /// <summary>The newest point a rebuild would restore: the last archived commit, or the newest succeeded backup.</summary>
    private async Task<DateTimeOffset?> RecoveryPointAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var backup = (await store.ListBackupsAsync(instance.Id, cancellationToken)).FirstOrDefault(b => b.State == BackupState.Succeeded)?.CompletedAt;
        if (engines.Engine(instance.ServiceId) is PostgreSqlEngine { WalOptions: not null })
        {
            try
            {
                if ((await planner.WindowAsync(instance.Id, cancellationToken)).Latest is { } archived && (backup is null || archived > backup))
                {
                    return archived;
                }
            }
            catch (StewardException)
            {
                // No readable WAL chain: the backup alone.
            }
        }

        return backup;
    }

    [LoggerMessage(EventId = 8010, Level = LogLevel.Warning, Message = "Instance {InstanceId} is rebuilt automatically by operation {OperationId} (incident {IncidentId})")]
    private static partial void LogStarted(ILogger logger, string instanceId, string operationId, string incidentId);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Warning, Message = "Instance {InstanceId} stays quarantined for a person: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Warning, Message = "Looking at quarantined instances for automatic rebuilds failed; retrying at the next pass")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}

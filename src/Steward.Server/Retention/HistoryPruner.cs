using Microsoft.Extensions.Options;
using Steward.State;

namespace Steward.Server.Retention;

/// <summary>
/// Keeps the state database's growth bounded: deletes old finished operations and closed incidents by
/// <see cref="HistoryRetentionOptions"/>, at start and then every sweep interval. SQLite reuses the freed pages, so the
/// file stops growing once history is pruned as fast as it is made.
/// </summary>
internal sealed partial class HistoryPruner(IStateRetention store, IOptions<HistoryRetentionOptions> options, TimeProvider time, ILogger<HistoryPruner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var keep = options.Value;
        if (keep.OperationsDays == 0 && keep.IncidentsDays == 0)
        {
            return;
        }

        await Task.Yield();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(keep.SweepSeconds), time);
        do
        {
            try
            {
                await PruneAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pruning pass; returns how many operations and incidents were deleted.</summary>
    public async Task<(int Operations, int Incidents)> PruneAsync(CancellationToken cancellationToken)
    {
        var keep = options.Value;
        var now = time.GetUtcNow();
        var pruned = await store.PruneHistoryAsync(
            keep.OperationsDays == 0 ? null : now.AddDays(-keep.OperationsDays),
            keep.IncidentsDays == 0 ? null : now.AddDays(-keep.IncidentsDays),
            cancellationToken);
        if (pruned.Operations + pruned.Incidents > 0)
        {
            LogPruned(logger, pruned.Operations, keep.OperationsDays, pruned.Incidents, keep.IncidentsDays);
        }

        return pruned;
    }

    [LoggerMessage(EventId = 14101, Level = LogLevel.Information, Message = "State retention: deleted {Operations} operations finished more than {OperationsDays} days ago and {Incidents} closed incidents older than {IncidentsDays} days")]
    private static partial void LogPruned(ILogger logger, int operations, int operationsDays, int incidents, int incidentsDays);

    [LoggerMessage(EventId = 14102, Level = LogLevel.Warning, Message = "State retention: pruning failed; retried at the next sweep")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}

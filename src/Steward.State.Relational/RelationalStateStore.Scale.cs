using Steward.State;

namespace Steward.State.Relational;

/// <summary>
/// What keeps the store's cost flat as instances and history grow: a change counter for in-memory readers, indexes
/// for the access paths used at scale, and pruning of old history.
/// </summary>
public abstract partial class RelationalStateStore : IInstanceChangeFeed, IStateRetention
{
    private long _instancesVersion;

    public long InstancesVersion => Interlocked.Read(ref _instancesVersion);

    public async Task<(int Operations, int Incidents)> PruneHistoryAsync(DateTimeOffset? operationsBefore, DateTimeOffset? incidentsBefore, CancellationToken cancellationToken)
    {
        await using var conn = await OpenAsync(cancellationToken);
        var operations = 0;
        var incidents = 0;
        if (operationsBefore is { } ob)
        {
            await using var cmd = Command(
                conn,
                $"""
                DELETE FROM operations WHERE state <> 'InProgress' AND updated_at < @before
                  AND {_sql.InsertionOrder} NOT IN (SELECT MAX({_sql.InsertionOrder}) FROM operations GROUP BY instance_id, binding_id)
                """,
                ("@before", Time(ob)));
            operations = await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        if (incidentsBefore is { } ib)
        {
            await using var cmd = Command(
                conn,
                """
                DELETE FROM incidents WHERE updated_at < @before
                  AND (state = 'Resolved' OR instance_id IN (SELECT id FROM instances WHERE state = 'Deleted'))
                """,
                ("@before", Time(ib)));
            incidents = await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        return (operations, incidents);
    }

    private async Task InstancesChangedAfter(Task write)
    {
        await write;
        Interlocked.Increment(ref _instancesVersion);
    }
}

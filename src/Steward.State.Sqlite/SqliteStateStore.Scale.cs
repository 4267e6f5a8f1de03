using Steward.State;

namespace Steward.State.Sqlite;

/// <summary>
/// What keeps the store's cost flat as instances and history grow: a change counter for in-memory readers, indexes
/// for the access paths used at scale, and pruning of old history.
/// </summary>
public sealed partial class SqliteStateStore : IInstanceChangeFeed, IStateRetention
{
    private const string ScaleIndexes = """
        CREATE INDEX IF NOT EXISTS instances_state ON instances(state);
        CREATE INDEX IF NOT EXISTS operations_finished ON operations(state, updated_at);
        CREATE INDEX IF NOT EXISTS operations_latest ON operations(instance_id, binding_id);
        CREATE INDEX IF NOT EXISTS incidents_state ON incidents(state, updated_at);
        """;

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
                """
                DELETE FROM operations WHERE state <> 'InProgress' AND updated_at < $before
                  AND rowid NOT IN (SELECT MAX(rowid) FROM operations GROUP BY instance_id, binding_id)
                """,
                ("$before", Time(ob)));
            operations = await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        if (incidentsBefore is { } ib)
        {
            await using var cmd = Command(
                conn,
                """
                DELETE FROM incidents WHERE updated_at < $before
                  AND (state = 'Resolved' OR instance_id IN (SELECT id FROM instances WHERE state = 'Deleted'))
                """,
                ("$before", Time(ib)));
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

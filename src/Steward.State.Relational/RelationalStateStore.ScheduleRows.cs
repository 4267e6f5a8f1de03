using System.Data.Common;
using Steward.Backups;

namespace Steward.State.Relational;

/// <summary>
/// The statements of the recurring-schedule tables (<c>backup_schedules</c>, <c>rehearsal_schedules</c>): one row an
/// instance, keyed by <c>instance_id</c>, listed by when they are due; the columns every schedule has
/// (<see cref="IRecurringSchedule"/>) are written alike, each table's own beside them.
/// </summary>
public abstract partial class RelationalStateStore
{
    private sealed record ScheduleTable(string Name, string Columns);

    private async Task<T?> GetScheduleRowAsync<T>(ScheduleTable table, Func<DbDataReader, T> read, string instanceId, CancellationToken cancellationToken)
        where T : class =>
        (await QueryAsync($"SELECT {table.Columns} FROM {table.Name} WHERE instance_id = @i", read, cancellationToken, ("@i", instanceId))).FirstOrDefault();

    private Task<IReadOnlyList<T>> ListScheduleRowsAsync<T>(ScheduleTable table, Func<DbDataReader, T> read, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {table.Columns} FROM {table.Name} ORDER BY due_at, instance_id", read, cancellationToken);

    private Task DeleteScheduleRowAsync(ScheduleTable table, string instanceId, CancellationToken cancellationToken) =>
        WriteAsync($"DELETE FROM {table.Name} WHERE instance_id = @i", cancellationToken, ("@i", instanceId));

    /// <summary>Inserts or replaces <paramref name="s"/>'s row; <paramref name="own"/> gives the table's own columns, each as <c>@column</c>.</summary>
    private Task SaveScheduleRowAsync(ScheduleTable table, IRecurringSchedule s, CancellationToken cancellationToken, params (string Name, object? Value)[] own) => WriteAsync(
        Upsert(table.Name, table.Columns, "instance_id"),
        cancellationToken,
        [
            ("@instance_id", s.InstanceId), ("@cron", s.Cron), ("@time_zone", s.TimeZone), ("@every_seconds", s.Every is { } e ? (long)e.TotalSeconds : null),
            ("@next_run_at", Time(s.NextRunAt)), ("@due_at", Time(s.DueAt)), ("@last_run_at", s.LastRunAt is { } l ? Time(l) : null),
            ("@last_result", s.LastResult), ("@last_message", s.LastMessage), ("@incident_id", s.IncidentId),
            ("@created_at", Time(s.CreatedAt)), ("@updated_at", Time(s.UpdatedAt)), .. own,
        ]);

    /// <summary>
    /// An insert of every one of <paramref name="columns"/> (each as <c>@column</c>) that replaces the row with the same
    /// <paramref name="keys"/>: what SQLite's <c>INSERT OR REPLACE</c> did, in the upsert both databases accept.
    /// </summary>
    protected static string Upsert(string table, string columns, string keys)
    {
        var all = columns.Split(", ");
        var keyColumns = keys.Split(", ");
        return $"""
            INSERT INTO {table} ({columns}) VALUES ({string.Join(", ", all.Select(c => "@" + c))})
            ON CONFLICT ({keys}) DO UPDATE SET {string.Join(", ", all.Except(keyColumns).Select(c => $"{c} = excluded.{c}"))}
            """;
    }
}

using System.Data.Common;
using Steward.Pool;
using Steward.State;

namespace Steward.State.Relational;

/// <summary>The warm pool's entries, in their own table; each entry's administrator password sealed like an instance's.</summary>
public abstract partial class RelationalStateStore : IPoolStore
{
    private const string PoolColumns = "id, service_id, fingerprint, state, admin_password, instance_id, created_at";

    private static string PoolPasswordContext(string entryId) => "pool_entries.admin_password:" + entryId;

    public Task<IReadOnlyList<PoolEntry>> ListPoolEntriesAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {PoolColumns} FROM pool_entries ORDER BY created_at", ReadPoolEntry, cancellationToken);

    public Task SavePoolEntryAsync(PoolEntry e, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO pool_entries ({PoolColumns}) VALUES (@id, @service, @fingerprint, @state, @password, @instance, @created)
        ON CONFLICT(id) DO UPDATE SET state=@state, instance_id=@instance
        """,
        cancellationToken,
        ("@id", e.Id), ("@service", e.ServiceId), ("@fingerprint", e.Fingerprint), ("@state", e.State.ToString()),
        ("@password", _key.Seal(e.AdminPassword, PoolPasswordContext(e.Id))), ("@instance", e.InstanceId), ("@created", Time(e.CreatedAt)));

    public async Task<PoolEntry?> TakePoolEntryAsync(string serviceId, string fingerprint, string instanceId, CancellationToken cancellationToken)
    {
        var earlier = await QueryAsync(
            $"SELECT {PoolColumns} FROM pool_entries WHERE state = 'Taken' AND instance_id = @i", ReadPoolEntry, cancellationToken, ("@i", instanceId));
        if (earlier.Count > 0)
        {
            return earlier[0];
        }

        // One statement, so two provisions never take the same entry: SQLite runs it under its write lock; PostgreSQL
        // locks the row the subquery picks and passes over rows another taker holds, and the outer state test drops a
        // row that was taken between the pick and the lock.
        var taken = await QueryAsync(
            $"""
            UPDATE pool_entries SET state = 'Taken', instance_id = @i
            WHERE state = 'Ready' AND id = (SELECT id FROM pool_entries WHERE service_id = @s AND state = 'Ready' AND fingerprint = @f ORDER BY created_at LIMIT 1{_sql.SkipLockedRows})
            RETURNING {PoolColumns}
            """,
            ReadPoolEntry,
            cancellationToken,
            ("@i", instanceId), ("@s", serviceId), ("@f", fingerprint));
        return taken.Count > 0 ? taken[0] : null;
    }

    public Task DeletePoolEntryAsync(string entryId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM pool_entries WHERE id = @id", cancellationToken, ("@id", entryId));

    private PoolEntry ReadPoolEntry(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        ServiceId = r.GetString(1),
        Fingerprint = r.GetString(2),
        State = Enum.Parse<PoolEntryState>(r.GetString(3)),
        AdminPassword = _key.Open(r.GetString(4), PoolPasswordContext(r.GetString(0))),
        InstanceId = Text(r, 5),
        CreatedAt = ParseTime(r.GetString(6)),
    };
}

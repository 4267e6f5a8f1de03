using Microsoft.Data.Sqlite;
using Steward.Pool;
using Steward.State;

namespace Steward.State.Sqlite;

/// <summary>The warm pool's entries, in their own table; each entry's administrator password sealed like an instance's.</summary>
public sealed partial class SqliteStateStore : IPoolStore
{
    private const string PoolColumns = "id, service_id, fingerprint, state, admin_password, instance_id, created_at";

    private const string PoolSchema = """
        CREATE TABLE IF NOT EXISTS pool_entries (
            id TEXT PRIMARY KEY,
            service_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            state TEXT NOT NULL,
            admin_password TEXT NOT NULL,
            instance_id TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS pool_entries_take ON pool_entries (service_id, state, fingerprint, created_at);
        """;

    private static string PoolPasswordContext(string entryId) => "pool_entries.admin_password:" + entryId;

    public Task<IReadOnlyList<PoolEntry>> ListPoolEntriesAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {PoolColumns} FROM pool_entries ORDER BY created_at", ReadPoolEntry, cancellationToken);

    public Task SavePoolEntryAsync(PoolEntry e, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO pool_entries ({PoolColumns}) VALUES ($id, $service, $fingerprint, $state, $password, $instance, $created)
        ON CONFLICT(id) DO UPDATE SET state=$state, instance_id=$instance
        """,
        cancellationToken,
        ("$id", e.Id), ("$service", e.ServiceId), ("$fingerprint", e.Fingerprint), ("$state", e.State.ToString()),
        ("$password", _key.Seal(e.AdminPassword, PoolPasswordContext(e.Id))), ("$instance", e.InstanceId), ("$created", Time(e.CreatedAt)));

    public async Task<PoolEntry?> TakePoolEntryAsync(string serviceId, string fingerprint, string instanceId, CancellationToken cancellationToken)
    {
        var earlier = await QueryAsync(
            $"SELECT {PoolColumns} FROM pool_entries WHERE state = 'Taken' AND instance_id = $i", ReadPoolEntry, cancellationToken, ("$i", instanceId));
        if (earlier.Count > 0)
        {
            return earlier[0];
        }

        // One statement: SQLite runs it under its write lock, so two provisions never take the same entry.
        var taken = await QueryAsync(
            $"""
            UPDATE pool_entries SET state = 'Taken', instance_id = $i
            WHERE id = (SELECT id FROM pool_entries WHERE service_id = $s AND state = 'Ready' AND fingerprint = $f ORDER BY created_at LIMIT 1)
            RETURNING {PoolColumns}
            """,
            ReadPoolEntry,
            cancellationToken,
            ("$i", instanceId), ("$s", serviceId), ("$f", fingerprint));
        return taken.Count > 0 ? taken[0] : null;
    }

    public Task DeletePoolEntryAsync(string entryId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM pool_entries WHERE id = $id", cancellationToken, ("$id", entryId));

    private PoolEntry ReadPoolEntry(SqliteDataReader r) => new()
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

using Microsoft.Data.Sqlite;
using Steward.HighAvailability;

namespace Steward.State.Sqlite;

/// <summary>Members of highly available instances, in their own table.</summary>
public sealed partial class SqliteStateStore : IHaMemberStore
{
    private const string HaMemberColumns = "instance_id, name, slot, port, role, detail, incident_id, created_at, updated_at";

    private const string HaMembersSchema = """
        CREATE TABLE IF NOT EXISTS ha_members (
            instance_id TEXT NOT NULL,
            name TEXT NOT NULL,
            slot INTEGER NOT NULL,
            port INTEGER NOT NULL,
            role TEXT NOT NULL,
            detail TEXT,
            incident_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (instance_id, name)
        );
        """;

    public Task<IReadOnlyList<HaMember>> ListMembersAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {HaMemberColumns} FROM ha_members WHERE instance_id = $i ORDER BY rowid", ReadMember, cancellationToken, ("$i", instanceId));

    public Task SaveMemberAsync(HaMember m, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO ha_members ({HaMemberColumns}) VALUES ($instance, $name, $slot, $port, $role, $detail, $incident, $created, $updated)
        ON CONFLICT(instance_id, name) DO UPDATE SET slot=$slot, port=$port, role=$role, detail=$detail, incident_id=$incident, updated_at=$updated
        """,
        cancellationToken,
        ("$instance", m.InstanceId), ("$name", m.Name), ("$slot", m.Slot), ("$port", m.Port), ("$role", m.Role.ToString()), ("$detail", m.Detail),
        ("$incident", m.IncidentId), ("$created", Time(m.CreatedAt)), ("$updated", Time(m.UpdatedAt)));

    public Task DeleteMembersAsync(string instanceId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM ha_members WHERE instance_id = $i", cancellationToken, ("$i", instanceId));

    private static HaMember ReadMember(SqliteDataReader r) => new()
    {
        InstanceId = r.GetString(0),
        Name = r.GetString(1),
        Slot = r.GetInt32(2),
        Port = r.GetInt32(3),
        Role = Enum.Parse<MemberRole>(r.GetString(4)),
        Detail = r.IsDBNull(5) ? null : r.GetString(5),
        IncidentId = r.IsDBNull(6) ? null : r.GetString(6),
        CreatedAt = ParseTime(r.GetString(7)),
        UpdatedAt = ParseTime(r.GetString(8)),
    };
}

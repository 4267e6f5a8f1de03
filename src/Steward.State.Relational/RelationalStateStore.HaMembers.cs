using System.Data.Common;
using Steward.HighAvailability;

namespace Steward.State.Relational;

/// <summary>Members of highly available instances, in their own table.</summary>
public abstract partial class RelationalStateStore : IHaMemberStore
{
    private const string HaMemberColumns = "instance_id, name, slot, port, role, detail, incident_id, created_at, updated_at";

    public Task<IReadOnlyList<HaMember>> ListMembersAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {HaMemberColumns} FROM ha_members WHERE instance_id = @i ORDER BY {_sql.InsertionOrder}", ReadMember, cancellationToken, ("@i", instanceId));

    public Task SaveMemberAsync(HaMember m, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO ha_members ({HaMemberColumns}) VALUES (@instance, @name, @slot, @port, @role, @detail, @incident, @created, @updated)
        ON CONFLICT(instance_id, name) DO UPDATE SET slot=@slot, port=@port, role=@role, detail=@detail, incident_id=@incident, updated_at=@updated
        """,
        cancellationToken,
        ("@instance", m.InstanceId), ("@name", m.Name), ("@slot", m.Slot), ("@port", m.Port), ("@role", m.Role.ToString()), ("@detail", m.Detail),
        ("@incident", m.IncidentId), ("@created", Time(m.CreatedAt)), ("@updated", Time(m.UpdatedAt)));

    public Task DeleteMembersAsync(string instanceId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM ha_members WHERE instance_id = @i; DELETE FROM ha_endpoints WHERE instance_id = @i", cancellationToken, ("@i", instanceId));

    public async Task<int?> GetReadOnlyPortAsync(string instanceId, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT ro_port FROM ha_endpoints WHERE instance_id = @i", r => (int?)r.GetInt32(0), cancellationToken, ("@i", instanceId))).FirstOrDefault();

    public Task SaveReadOnlyPortAsync(string instanceId, int port, CancellationToken cancellationToken) => WriteAsync(
        "INSERT INTO ha_endpoints (instance_id, ro_port) VALUES (@i, @p) ON CONFLICT(instance_id) DO UPDATE SET ro_port = @p",
        cancellationToken,
        ("@i", instanceId),
        ("@p", port));

    private static HaMember ReadMember(DbDataReader r) => new()
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

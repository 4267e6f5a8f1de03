using System.Text.Json;
using System.Data.Common;
using Steward.Rehearsals;
using Steward.State;

namespace Steward.State.Relational;

/// <summary>Restore rehearsals in their own table: the report as JSON, the columns queries need beside it.</summary>
public abstract partial class RelationalStateStore : IRehearsalStore
{
    private static readonly JsonSerializerOptions RehearsalJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public Task SaveRehearsalAsync(RehearsalRecord r, CancellationToken cancellationToken) => WriteAsync(
        """
        INSERT INTO rehearsals (id, instance_id, state, port, started_at, report) VALUES (@id, @instance, @state, @port, @started, @report)
        ON CONFLICT(id) DO UPDATE SET state=@state, port=@port, report=@report
        """,
        cancellationToken,
        ("@id", r.Id), ("@instance", r.InstanceId), ("@state", r.State.ToString()), ("@port", r.Port), ("@started", Time(r.StartedAt)),
        ("@report", JsonSerializer.Serialize(r, RehearsalJson)));

    public async Task<RehearsalRecord?> GetRehearsalAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT report FROM rehearsals WHERE id = @id", ReadRehearsal, cancellationToken, ("@id", id))).FirstOrDefault();

    public Task<IReadOnlyList<RehearsalRecord>> ListRehearsalsAsync(string? instanceId, CancellationToken cancellationToken) => instanceId is null
        ? QueryAsync($"SELECT report FROM rehearsals ORDER BY started_at DESC, {_sql.InsertionOrder} DESC", ReadRehearsal, cancellationToken)
        : QueryAsync($"SELECT report FROM rehearsals WHERE instance_id = @i ORDER BY started_at DESC, {_sql.InsertionOrder} DESC", ReadRehearsal, cancellationToken, ("@i", instanceId));

    private static RehearsalRecord ReadRehearsal(DbDataReader r) =>
        JsonSerializer.Deserialize<RehearsalRecord>(r.GetString(0), RehearsalJson)
        ?? throw new InvalidDataException("a rehearsal record is empty");
}

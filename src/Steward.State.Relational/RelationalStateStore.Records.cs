using System.Data.Common;
using System.Text.Json;
using Steward.Backups;
using Steward.Supervision;

namespace Steward.State.Relational;

/// <summary>Backup records and incidents: history kept per instance, listed newest first.</summary>
public abstract partial class RelationalStateStore
{
    private const string BackupColumns = "id, instance_id, service, kind, state, storage, key, failed_stage, failure_kind, message, plaintext_bytes, stored_bytes, plaintext_digest, stored_sha256, manifest, originating_identity, started_at, completed_at";
    private const string IncidentColumns = "id, instance_id, class, state, summary, evidence, timeline, restarts, preserved_path, opened_at, updated_at";

    public Task SaveBackupAsync(BackupRecord b, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO backups ({BackupColumns}) VALUES (@id, @instance, @service, @kind, @state, @storage, @key, @stage, @fkind, @message, @pbytes, @sbytes, @psha, @ssha, @manifest, @origin, @started, @completed)
        ON CONFLICT(id) DO UPDATE SET state=@state, failed_stage=@stage, failure_kind=@fkind, message=@message, plaintext_bytes=@pbytes, stored_bytes=@sbytes,
          plaintext_digest=@psha, stored_sha256=@ssha, manifest=@manifest, completed_at=@completed
        """,
        cancellationToken,
        ("@id", b.Id), ("@instance", b.InstanceId), ("@service", b.Service), ("@kind", b.Kind), ("@state", b.State.ToString()), ("@storage", b.Storage), ("@key", b.Key),
        ("@stage", b.FailedStage), ("@fkind", b.FailureKind), ("@message", b.Message), ("@pbytes", b.PlaintextBytes), ("@sbytes", b.StoredBytes),
        ("@psha", b.PlaintextDigest), ("@ssha", b.StoredSha256), ("@manifest", b.ManifestJson), ("@origin", b.OriginatingIdentity),
        ("@started", Time(b.StartedAt)), ("@completed", b.CompletedAt is { } c ? Time(c) : null));

    public async Task<BackupRecord?> GetBackupAsync(string backupId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BackupColumns} FROM backups WHERE id = @id", ReadBackup, cancellationToken, ("@id", backupId))).FirstOrDefault();

    public Task<IReadOnlyList<BackupRecord>> ListBackupsAsync(string? instanceId, CancellationToken cancellationToken) => instanceId is null
        ? QueryAsync($"SELECT {BackupColumns} FROM backups ORDER BY {_sql.InsertionOrder} DESC", ReadBackup, cancellationToken)
        : QueryAsync($"SELECT {BackupColumns} FROM backups WHERE instance_id = @i ORDER BY {_sql.InsertionOrder} DESC", ReadBackup, cancellationToken, ("@i", instanceId));

    public Task DeleteBackupAsync(string backupId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM backups WHERE id = @id", cancellationToken, ("@id", backupId));

    public Task SaveIncidentAsync(Incident i, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO incidents ({IncidentColumns}) VALUES (@id, @instance, @class, @state, @summary, @evidence, @timeline, @restarts, @preserved, @opened, @updated)
        ON CONFLICT(id) DO UPDATE SET class=@class, state=@state, summary=@summary, evidence=@evidence, timeline=@timeline,
          restarts=@restarts, preserved_path=@preserved, updated_at=@updated
        """,
        cancellationToken,
        ("@id", i.Id), ("@instance", i.InstanceId), ("@class", i.Class.ToString()), ("@state", i.State.ToString()), ("@summary", i.Summary),
        ("@evidence", JsonSerializer.Serialize(i.Evidence)), ("@timeline", JsonSerializer.Serialize(i.Timeline)), ("@restarts", i.Restarts),
        ("@preserved", i.PreservedPath), ("@opened", Time(i.OpenedAt)), ("@updated", Time(i.UpdatedAt)));

    public async Task<Incident?> GetIncidentAsync(string incidentId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {IncidentColumns} FROM incidents WHERE id = @id", ReadIncident, cancellationToken, ("@id", incidentId))).FirstOrDefault();

    public Task<IReadOnlyList<Incident>> ListIncidentsAsync(string? instanceId, CancellationToken cancellationToken) => instanceId is null
        ? QueryAsync($"SELECT {IncidentColumns} FROM incidents ORDER BY {_sql.InsertionOrder} DESC", ReadIncident, cancellationToken)
        : QueryAsync($"SELECT {IncidentColumns} FROM incidents WHERE instance_id = @i ORDER BY {_sql.InsertionOrder} DESC", ReadIncident, cancellationToken, ("@i", instanceId));

    private static BackupRecord ReadBackup(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        InstanceId = r.GetString(1),
        Service = r.GetString(2),
        Kind = r.GetString(3),
        State = Enum.Parse<BackupState>(r.GetString(4)),
        Storage = r.GetString(5),
        Key = r.GetString(6),
        FailedStage = Text(r, 7),
        FailureKind = Text(r, 8),
        Message = Text(r, 9),
        PlaintextBytes = r.GetInt64(10),
        StoredBytes = r.GetInt64(11),
        PlaintextDigest = Text(r, 12),
        StoredSha256 = Text(r, 13),
        ManifestJson = Text(r, 14),
        OriginatingIdentity = Text(r, 15),
        StartedAt = ParseTime(r.GetString(16)),
        CompletedAt = Text(r, 17) is { } c ? ParseTime(c) : null,
    };

    private static Incident ReadIncident(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        InstanceId = r.GetString(1),
        Class = Enum.Parse<FailureClass>(r.GetString(2)),
        State = Enum.Parse<IncidentState>(r.GetString(3)),
        Summary = r.GetString(4),
        Evidence = JsonSerializer.Deserialize<Dictionary<string, object?>>(r.GetString(5)) ?? [],
        Timeline = JsonSerializer.Deserialize<List<IncidentEvent>>(r.GetString(6)) ?? [],
        Restarts = r.GetInt32(7),
        PreservedPath = Text(r, 8),
        OpenedAt = ParseTime(r.GetString(9)),
        UpdatedAt = ParseTime(r.GetString(10)),
    };
}

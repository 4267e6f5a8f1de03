using System.Globalization;
using Microsoft.Data.Sqlite;
using Steward.Backups;
using Steward.Instances;
using Steward.Operations;
using System.Text.Json;
using Steward.Security;
using Steward.State;
using Steward.Supervision;

namespace Steward.State.Sqlite;

/// <summary>
/// Steward's state in one SQLite file (WAL, synchronous=FULL: a write is on disk when the call returns).
/// The file holds credentials, so it is created readable by its owner only.
/// </summary>
public sealed partial class SqliteStateStore : IStateStore
{
    private const string InstanceColumns = "id, internal_id, service_id, plan_id, parameters, context, organization_guid, space_guid, maintenance_version, port, admin_user, admin_password, state, created_at, updated_at";
    private const string BindingColumns = "id, instance_id, service_id, plan_id, parameters, app_guid, username, password, state, created_at, api_token_hash";
    private const string BackupColumns = "id, instance_id, service, kind, state, storage, key, failed_stage, failure_kind, message, plaintext_bytes, stored_bytes, plaintext_digest, stored_sha256, manifest, originating_identity, started_at, completed_at";
    private const string IncidentColumns = "id, instance_id, class, state, summary, evidence, timeline, restarts, preserved_path, opened_at, updated_at";
    private const string OperationColumns = "id, instance_id, binding_id, kind, state, description, step, payload, originating_identity, request_identity, instance_usable, created_at, updated_at";

    private readonly string _path;
    private readonly string _connectionString;
    private readonly CredentialKey _key;

    static SqliteStateStore() => SQLitePCL.Batteries_V2.Init();

    /// <summary>A store in <paramref name="path"/>; credentials in it are sealed with <paramref name="key"/>, which is kept apart.</summary>
    public SqliteStateStore(string path, CredentialKey key)
    {
        _key = key;
        _path = Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = _path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        SecretFile.TryCreate(_path, ReadOnlySpan<byte>.Empty);

        await using var conn = await OpenAsync(cancellationToken);
        await ExecAsync(conn, "PRAGMA journal_mode=WAL;", cancellationToken);
        await ExecAsync(conn, Schema.Create, cancellationToken);
        await CreateWalTablesAsync(conn, cancellationToken);
        await ExecAsync(conn, HaMembersSchema, cancellationToken);
        foreach (var (table, from, to) in Schema.RenamedColumns)
        {
            if ((await QueryAsync($"SELECT 1 FROM pragma_table_info('{table}') WHERE name = $c", r => 1, cancellationToken, ("$c", from))).Count > 0)
            {
                await ExecAsync(conn, $"ALTER TABLE {table} RENAME COLUMN {from} TO {to}", cancellationToken);
            }
        }

        await AddColumnsAsync(conn, cancellationToken);
        await SealLegacyCredentialsAsync(conn, cancellationToken);
        await ExecAsync(conn, ScheduleSchema, cancellationToken);
        await ExecAsync(conn, PoolSchema, cancellationToken);
        await ExecAsync(conn, ScaleIndexes, cancellationToken);
        await ExecAsync(conn, RehearsalSchema, cancellationToken);
        await ExecAsync(conn, DrillScheduleSchema, cancellationToken);

        // Again for the tables created just above (a table made by this start already has every column).
        await AddColumnsAsync(conn, cancellationToken);
    }

    /// <summary>Adds the columns of <see cref="Schema.AddedColumns"/> that an existing table lacks; tables not created yet are left to their CREATE.</summary>
    private async Task AddColumnsAsync(SqliteConnection conn, CancellationToken cancellationToken)
    {
        foreach (var (table, column, definition) in Schema.AddedColumns)
        {
            var exists = await QueryAsync("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $t", r => 1, cancellationToken, ("$t", table));
            var present = await QueryAsync($"SELECT 1 FROM pragma_table_info('{table}') WHERE name = $c", r => 1, cancellationToken, ("$c", column));
            if (exists.Count > 0 && present.Count == 0)
            {
                await ExecAsync(conn, $"ALTER TABLE {table} ADD COLUMN {column} {definition}", cancellationToken);
            }
        }
    }

    public async Task<ServiceBinding?> FindBindingByTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE api_token_hash = $h AND state = 'Created'", ReadBinding, cancellationToken, ("$h", tokenHash))).FirstOrDefault();

    public Task SaveBackupAsync(BackupRecord b, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO backups ({BackupColumns}) VALUES ($id, $instance, $service, $kind, $state, $storage, $key, $stage, $fkind, $message, $pbytes, $sbytes, $psha, $ssha, $manifest, $origin, $started, $completed)
        ON CONFLICT(id) DO UPDATE SET state=$state, failed_stage=$stage, failure_kind=$fkind, message=$message, plaintext_bytes=$pbytes, stored_bytes=$sbytes,
          plaintext_digest=$psha, stored_sha256=$ssha, manifest=$manifest, completed_at=$completed
        """,
        cancellationToken,
        ("$id", b.Id), ("$instance", b.InstanceId), ("$service", b.Service), ("$kind", b.Kind), ("$state", b.State.ToString()), ("$storage", b.Storage), ("$key", b.Key),
        ("$stage", b.FailedStage), ("$fkind", b.FailureKind), ("$message", b.Message), ("$pbytes", b.PlaintextBytes), ("$sbytes", b.StoredBytes),
        ("$psha", b.PlaintextDigest), ("$ssha", b.StoredSha256), ("$manifest", b.ManifestJson), ("$origin", b.OriginatingIdentity),
        ("$started", Time(b.StartedAt)), ("$completed", b.CompletedAt is { } c ? Time(c) : null));

    public async Task<BackupRecord?> GetBackupAsync(string backupId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BackupColumns} FROM backups WHERE id = $id", ReadBackup, cancellationToken, ("$id", backupId))).FirstOrDefault();

    public Task<IReadOnlyList<BackupRecord>> ListBackupsAsync(string? instanceId, CancellationToken cancellationToken) => instanceId is null
        ? QueryAsync($"SELECT {BackupColumns} FROM backups ORDER BY rowid DESC", ReadBackup, cancellationToken)
        : QueryAsync($"SELECT {BackupColumns} FROM backups WHERE instance_id = $i ORDER BY rowid DESC", ReadBackup, cancellationToken, ("$i", instanceId));

    public Task DeleteBackupAsync(string backupId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM backups WHERE id = $id", cancellationToken, ("$id", backupId));

    public Task SaveIncidentAsync(Incident i, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO incidents ({IncidentColumns}) VALUES ($id, $instance, $class, $state, $summary, $evidence, $timeline, $restarts, $preserved, $opened, $updated)
        ON CONFLICT(id) DO UPDATE SET class=$class, state=$state, summary=$summary, evidence=$evidence, timeline=$timeline,
          restarts=$restarts, preserved_path=$preserved, updated_at=$updated
        """,
        cancellationToken,
        ("$id", i.Id), ("$instance", i.InstanceId), ("$class", i.Class.ToString()), ("$state", i.State.ToString()), ("$summary", i.Summary),
        ("$evidence", JsonSerializer.Serialize(i.Evidence)), ("$timeline", JsonSerializer.Serialize(i.Timeline)), ("$restarts", i.Restarts),
        ("$preserved", i.PreservedPath), ("$opened", Time(i.OpenedAt)), ("$updated", Time(i.UpdatedAt)));

    public async Task<Incident?> GetIncidentAsync(string incidentId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {IncidentColumns} FROM incidents WHERE id = $id", ReadIncident, cancellationToken, ("$id", incidentId))).FirstOrDefault();

    public Task<IReadOnlyList<Incident>> ListIncidentsAsync(string? instanceId, CancellationToken cancellationToken) => instanceId is null
        ? QueryAsync($"SELECT {IncidentColumns} FROM incidents ORDER BY rowid DESC", ReadIncident, cancellationToken)
        : QueryAsync($"SELECT {IncidentColumns} FROM incidents WHERE instance_id = $i ORDER BY rowid DESC", ReadIncident, cancellationToken, ("$i", instanceId));

    public async Task<ServiceInstance?> GetInstanceAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {InstanceColumns} FROM instances WHERE id = $id", ReadInstance, cancellationToken, ("$id", id))).FirstOrDefault();

    public Task<IReadOnlyList<ServiceInstance>> ListInstancesAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {InstanceColumns} FROM instances WHERE state <> 'Deleted' ORDER BY created_at, id", ReadInstance, cancellationToken);

    public Task SaveInstanceAsync(ServiceInstance i, CancellationToken cancellationToken) => InstancesChangedAfter(WriteAsync(
        $"""
        INSERT INTO instances ({InstanceColumns}) VALUES ($id, $internal, $service, $plan, $params, $context, $org, $space, $mv, $port, $au, $ap, $state, $created, $updated)
        ON CONFLICT(id) DO UPDATE SET internal_id=$internal, service_id=$service, plan_id=$plan, parameters=$params, context=$context,
          organization_guid=$org, space_guid=$space, maintenance_version=$mv, port=$port, admin_user=$au, admin_password=$ap,
          state=$state, created_at=$created, updated_at=$updated
        """,
        cancellationToken,
        ("$id", i.Id), ("$internal", i.InternalId), ("$service", i.ServiceId), ("$plan", i.PlanId), ("$params", i.ParametersJson),
        ("$context", i.ContextJson), ("$org", i.OrganizationGuid), ("$space", i.SpaceGuid), ("$mv", i.MaintenanceVersion), ("$port", i.Port),
        ("$au", i.AdminUser), ("$ap", _key.Seal(i.AdminPassword, AdminPasswordContext(i.Id))), ("$state", i.State.ToString()), ("$created", Time(i.CreatedAt)), ("$updated", Time(i.UpdatedAt))));

    public async Task PurgeInstanceAsync(string id, CancellationToken cancellationToken)
    {
        await using var conn = await OpenAsync(cancellationToken);
        await using var tx = conn.BeginTransaction();
        foreach (var table in new[] { "operations", "bindings" })
        {
            await using var cmd = Command(conn, $"DELETE FROM {table} WHERE instance_id = $id", ("$id", id));
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var cmd = Command(conn, "DELETE FROM instances WHERE id = $id", ("$id", id)))
        {
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        Interlocked.Increment(ref _instancesVersion);
    }

    public async Task<IReadOnlySet<int>> AllocatedPortsAsync(CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT port FROM instances WHERE port IS NOT NULL AND state <> 'Deleted' UNION SELECT port FROM ha_members UNION SELECT ro_port FROM ha_endpoints UNION SELECT port FROM rehearsals WHERE state = 'Running' AND port IS NOT NULL UNION SELECT json_extract(payload, '$.SandboxPort') FROM operations WHERE kind = 'Repair' AND state = 'InProgress' AND json_extract(payload, '$.SandboxPort') IS NOT NULL", r => r.GetInt32(0), cancellationToken)).ToHashSet();

    public async Task<ServiceBinding?> GetBindingAsync(string instanceId, string bindingId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE id = $id AND instance_id = $instance", ReadBinding, cancellationToken, ("$id", bindingId), ("$instance", instanceId))).FirstOrDefault();

    public async Task<ServiceBinding?> FindBindingAsync(string bindingId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE id = $id", ReadBinding, cancellationToken, ("$id", bindingId))).FirstOrDefault();

    public Task<IReadOnlyList<ServiceBinding>> ListBindingsAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE instance_id = $instance ORDER BY created_at, id", ReadBinding, cancellationToken, ("$instance", instanceId));

    public Task SaveBindingAsync(ServiceBinding b, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO bindings ({BindingColumns}) VALUES ($id, $instance, $service, $plan, $params, $app, $user, $password, $state, $created, $tokenHash)
        ON CONFLICT(id) DO UPDATE SET instance_id=$instance, service_id=$service, plan_id=$plan, parameters=$params, app_guid=$app,
          username=$user, password=$password, state=$state, created_at=$created, api_token=NULL, api_token_hash=$tokenHash
        """,
        cancellationToken,
        ("$id", b.Id), ("$instance", b.InstanceId), ("$service", b.ServiceId), ("$plan", b.PlanId), ("$params", b.ParametersJson), ("$app", b.AppGuid),
        ("$user", b.Username), ("$password", _key.Seal(b.Password, BindingPasswordContext(b.Id))), ("$state", b.State.ToString()), ("$created", Time(b.CreatedAt)),
        ("$tokenHash", b.ApiToken is null ? null : Secrets.TokenHash(b.ApiToken)));

    public Task DeleteBindingAsync(string instanceId, string bindingId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM bindings WHERE id = $id AND instance_id = $instance", cancellationToken, ("$id", bindingId), ("$instance", instanceId));

    public async Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {OperationColumns} FROM operations WHERE id = $id", ReadOperation, cancellationToken, ("$id", operationId))).FirstOrDefault();

    public Task SaveOperationAsync(Operation o, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO operations ({OperationColumns}) VALUES ($id, $instance, $binding, $kind, $state, $description, $step, $payload, $origin, $request, $usable, $created, $updated)
        ON CONFLICT(id) DO UPDATE SET state=$state, description=$description, step=$step, payload=$payload, instance_usable=$usable, updated_at=$updated
        """,
        cancellationToken,
        ("$id", o.Id), ("$instance", o.InstanceId), ("$binding", o.BindingId), ("$kind", o.Kind.ToString()), ("$state", o.State.ToString()),
        ("$description", o.Description), ("$step", o.Step), ("$payload", o.PayloadJson), ("$origin", o.OriginatingIdentity), ("$request", o.RequestIdentity),
        ("$usable", o.InstanceUsable), ("$created", Time(o.CreatedAt)), ("$updated", Time(o.UpdatedAt)));

    public async Task<Operation?> LatestInstanceOperationAsync(string instanceId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {OperationColumns} FROM operations WHERE instance_id = $instance AND binding_id IS NULL ORDER BY rowid DESC LIMIT 1", ReadOperation, cancellationToken, ("$instance", instanceId))).FirstOrDefault();

    public async Task<Operation?> LatestBindingOperationAsync(string instanceId, string bindingId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {OperationColumns} FROM operations WHERE instance_id = $instance AND binding_id = $binding ORDER BY rowid DESC LIMIT 1", ReadOperation, cancellationToken, ("$instance", instanceId), ("$binding", bindingId))).FirstOrDefault();

    public Task<IReadOnlyList<Operation>> ListInProgressOperationsAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {OperationColumns} FROM operations WHERE state = 'InProgress' ORDER BY rowid", ReadOperation, cancellationToken);

    private ServiceInstance ReadInstance(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        InternalId = r.GetString(1),
        ServiceId = r.GetString(2),
        PlanId = r.GetString(3),
        ParametersJson = r.GetString(4),
        ContextJson = Text(r, 5),
        OrganizationGuid = Text(r, 6),
        SpaceGuid = Text(r, 7),
        MaintenanceVersion = Text(r, 8),
        Port = r.IsDBNull(9) ? null : r.GetInt32(9),
        AdminUser = r.GetString(10),
        AdminPassword = _key.Open(r.GetString(11), AdminPasswordContext(r.GetString(0))),
        State = Enum.Parse<InstanceState>(r.GetString(12)),
        CreatedAt = ParseTime(r.GetString(13)),
        UpdatedAt = ParseTime(r.GetString(14)),
    };

    private ServiceBinding ReadBinding(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        InstanceId = r.GetString(1),
        ServiceId = r.GetString(2),
        PlanId = r.GetString(3),
        ParametersJson = r.GetString(4),
        AppGuid = Text(r, 5),
        Username = r.GetString(6),
        Password = _key.Open(r.GetString(7), BindingPasswordContext(r.GetString(0))),
        State = Enum.Parse<BindingState>(r.GetString(8)),
        CreatedAt = ParseTime(r.GetString(9)),
        ApiToken = ApiToken(r.GetString(1), r.GetString(0), r.GetString(6), Text(r, 10)),
    };

    private static BackupRecord ReadBackup(SqliteDataReader r) => new()
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

    private static Incident ReadIncident(SqliteDataReader r) => new()
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

    private static Operation ReadOperation(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        InstanceId = r.GetString(1),
        BindingId = Text(r, 2),
        Kind = Enum.Parse<OperationKind>(r.GetString(3)),
        State = Enum.Parse<OperationState>(r.GetString(4)),
        Description = r.GetString(5),
        Step = Text(r, 6),
        PayloadJson = Text(r, 7),
        OriginatingIdentity = Text(r, 8),
        RequestIdentity = Text(r, 9),
        InstanceUsable = r.IsDBNull(10) ? null : r.GetInt64(10) != 0,
        CreatedAt = ParseTime(r.GetString(11)),
        UpdatedAt = ParseTime(r.GetString(12)),
    };

    private static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static SqliteCommand Command(SqliteConnection conn, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }

    private static async Task ExecAsync(SqliteConnection conn, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = Command(conn, sql);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var conn = new SqliteConnection(_connectionString);
        await conn.OpenAsync(cancellationToken);
        await ExecAsync(conn, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;", cancellationToken);
        return conn;
    }

    private async Task WriteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] args)
    {
        await using var conn = await OpenAsync(cancellationToken);
        await using var cmd = Command(conn, sql, args);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<SqliteDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] args)
    {
        await using var conn = await OpenAsync(cancellationToken);
        await using var cmd = Command(conn, sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(read(reader));
        }

        return list;
    }
}

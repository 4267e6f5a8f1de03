using System.Data.Common;
using System.Globalization;
using Steward.Instances;
using Steward.Operations;
using Steward.Security;

namespace Steward.State.Relational;

/// <summary>
/// Steward's state in a relational database: the statements and row mapping SQLite and PostgreSQL share. A store
/// derives from it with its connection, its schema and its <see cref="SqlDialect"/>. Times are stored as ISO-8601 UTC
/// text (fixed width, so they sort and compare as text alike in both databases); credentials are sealed with the
/// <see cref="CredentialKey"/>, which is kept apart from the database.
/// </summary>
public abstract partial class RelationalStateStore : IStateStore
{
    private const string InstanceColumns = "id, internal_id, service_id, plan_id, parameters, context, organization_guid, space_guid, maintenance_version, port, admin_user, admin_password, state, created_at, updated_at";
    private const string BindingColumns = "id, instance_id, service_id, plan_id, parameters, app_guid, username, password, state, created_at, api_token_hash";
    private const string OperationColumns = "id, instance_id, binding_id, kind, state, description, step, payload, originating_identity, request_identity, instance_usable, created_at, updated_at";

    private readonly CredentialKey _key;
    private readonly SqlDialect _sql;

    protected RelationalStateStore(CredentialKey key, SqlDialect dialect)
    {
        _key = key;
        _sql = dialect;
    }

    /// <summary>The key credentials in this store are sealed with.</summary>
    protected CredentialKey Key => _key;

    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>An open connection, set up for the store's writes to be durable when they return.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    public async Task<ServiceInstance?> GetInstanceAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {InstanceColumns} FROM instances WHERE id = @id", ReadInstance, cancellationToken, ("@id", id))).FirstOrDefault();

    public Task<IReadOnlyList<ServiceInstance>> ListInstancesAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {InstanceColumns} FROM instances WHERE state <> 'Deleted' ORDER BY created_at, id", ReadInstance, cancellationToken);

    public Task SaveInstanceAsync(ServiceInstance i, CancellationToken cancellationToken) => InstancesChangedAfter(WriteAsync(
        $"""
        INSERT INTO instances ({InstanceColumns}) VALUES (@id, @internal, @service, @plan, @params, @context, @org, @space, @mv, @port, @au, @ap, @state, @created, @updated)
        ON CONFLICT(id) DO UPDATE SET internal_id=@internal, service_id=@service, plan_id=@plan, parameters=@params, context=@context,
          organization_guid=@org, space_guid=@space, maintenance_version=@mv, port=@port, admin_user=@au, admin_password=@ap,
          state=@state, created_at=@created, updated_at=@updated
        """,
        cancellationToken,
        ("@id", i.Id), ("@internal", i.InternalId), ("@service", i.ServiceId), ("@plan", i.PlanId), ("@params", i.ParametersJson),
        ("@context", i.ContextJson), ("@org", i.OrganizationGuid), ("@space", i.SpaceGuid), ("@mv", i.MaintenanceVersion), ("@port", i.Port),
        ("@au", i.AdminUser), ("@ap", _key.Seal(i.AdminPassword, AdminPasswordContext(i.Id))), ("@state", i.State.ToString()), ("@created", Time(i.CreatedAt)), ("@updated", Time(i.UpdatedAt))));

    public async Task PurgeInstanceAsync(string id, CancellationToken cancellationToken)
    {
        await using var conn = await OpenAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        foreach (var table in new[] { "operations", "bindings" })
        {
            await using var cmd = Command(conn, $"DELETE FROM {table} WHERE instance_id = @id", ("@id", id));
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var cmd = Command(conn, "DELETE FROM instances WHERE id = @id", ("@id", id)))
        {
            cmd.Transaction = tx;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        Interlocked.Increment(ref _instancesVersion);
    }

    public async Task<IReadOnlySet<int>> AllocatedPortsAsync(CancellationToken cancellationToken)
    {
        var sandboxPort = _sql.JsonInteger("payload", "SandboxPort");
        return (await QueryAsync(
            $"""
            SELECT port FROM instances WHERE port IS NOT NULL AND state <> 'Deleted' UNION SELECT port FROM ha_members UNION SELECT ro_port FROM ha_endpoints
            UNION SELECT port FROM rehearsals WHERE state = 'Running' AND port IS NOT NULL
            UNION SELECT {sandboxPort} FROM operations WHERE kind = 'Repair' AND state = 'InProgress' AND {sandboxPort} IS NOT NULL
            """,
            r => r.GetInt32(0),
            cancellationToken)).ToHashSet();
    }

    public async Task<ServiceBinding?> GetBindingAsync(string instanceId, string bindingId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE id = @id AND instance_id = @instance", ReadBinding, cancellationToken, ("@id", bindingId), ("@instance", instanceId))).FirstOrDefault();

    public async Task<ServiceBinding?> FindBindingAsync(string bindingId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE id = @id", ReadBinding, cancellationToken, ("@id", bindingId))).FirstOrDefault();

    public async Task<ServiceBinding?> FindBindingByTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE api_token_hash = @h AND state = 'Created'", ReadBinding, cancellationToken, ("@h", tokenHash))).FirstOrDefault();

    public Task<IReadOnlyList<ServiceBinding>> ListBindingsAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {BindingColumns} FROM bindings WHERE instance_id = @instance ORDER BY created_at, id", ReadBinding, cancellationToken, ("@instance", instanceId));

    public Task SaveBindingAsync(ServiceBinding b, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO bindings ({BindingColumns}) VALUES (@id, @instance, @service, @plan, @params, @app, @user, @password, @state, @created, @tokenHash)
        ON CONFLICT(id) DO UPDATE SET instance_id=@instance, service_id=@service, plan_id=@plan, parameters=@params, app_guid=@app,
          username=@user, password=@password, state=@state, created_at=@created, api_token=NULL, api_token_hash=@tokenHash
        """,
        cancellationToken,
        ("@id", b.Id), ("@instance", b.InstanceId), ("@service", b.ServiceId), ("@plan", b.PlanId), ("@params", b.ParametersJson), ("@app", b.AppGuid),
        ("@user", b.Username), ("@password", _key.Seal(b.Password, BindingPasswordContext(b.Id))), ("@state", b.State.ToString()), ("@created", Time(b.CreatedAt)),
        ("@tokenHash", b.ApiToken is null ? null : Secrets.TokenHash(b.ApiToken)));

    public Task DeleteBindingAsync(string instanceId, string bindingId, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM bindings WHERE id = @id AND instance_id = @instance", cancellationToken, ("@id", bindingId), ("@instance", instanceId));

    public async Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {OperationColumns} FROM operations WHERE id = @id", ReadOperation, cancellationToken, ("@id", operationId))).FirstOrDefault();

    public Task SaveOperationAsync(Operation o, CancellationToken cancellationToken) => WriteAsync(
        $"""
        INSERT INTO operations ({OperationColumns}) VALUES (@id, @instance, @binding, @kind, @state, @description, @step, @payload, @origin, @request, @usable, @created, @updated)
        ON CONFLICT(id) DO UPDATE SET state=@state, description=@description, step=@step, payload=@payload, instance_usable=@usable, updated_at=@updated
        """,
        cancellationToken,
        ("@id", o.Id), ("@instance", o.InstanceId), ("@binding", o.BindingId), ("@kind", o.Kind.ToString()), ("@state", o.State.ToString()),
        ("@description", o.Description), ("@step", o.Step), ("@payload", o.PayloadJson), ("@origin", o.OriginatingIdentity), ("@request", o.RequestIdentity),
        ("@usable", o.InstanceUsable is { } usable ? (usable ? 1 : 0) : null), ("@created", Time(o.CreatedAt)), ("@updated", Time(o.UpdatedAt)));

    public async Task<Operation?> LatestInstanceOperationAsync(string instanceId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {OperationColumns} FROM operations WHERE instance_id = @instance AND binding_id IS NULL ORDER BY {_sql.InsertionOrder} DESC LIMIT 1", ReadOperation, cancellationToken, ("@instance", instanceId))).FirstOrDefault();

    public async Task<Operation?> LatestBindingOperationAsync(string instanceId, string bindingId, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {OperationColumns} FROM operations WHERE instance_id = @instance AND binding_id = @binding ORDER BY {_sql.InsertionOrder} DESC LIMIT 1", ReadOperation, cancellationToken, ("@instance", instanceId), ("@binding", bindingId))).FirstOrDefault();

    public Task<IReadOnlyList<Operation>> ListInProgressOperationsAsync(CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {OperationColumns} FROM operations WHERE state = 'InProgress' ORDER BY {_sql.InsertionOrder}", ReadOperation, cancellationToken);

    private ServiceInstance ReadInstance(DbDataReader r) => new()
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

    private ServiceBinding ReadBinding(DbDataReader r) => new()
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

    private static Operation ReadOperation(DbDataReader r) => new()
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
        InstanceUsable = r.IsDBNull(10) ? null : r.GetInt32(10) != 0,
        CreatedAt = ParseTime(r.GetString(11)),
        UpdatedAt = ParseTime(r.GetString(12)),
    };

    protected static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    protected static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    protected static DateTimeOffset ParseTime(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    protected static DbCommand Command(DbConnection conn, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    protected static async Task ExecAsync(DbConnection conn, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = Command(conn, sql);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs one statement (or several separated by ';') on a connection of its own; returns the rows it changed.</summary>
    protected async Task<int> WriteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] args)
    {
        await using var conn = await OpenAsync(cancellationToken);
        await using var cmd = Command(conn, sql, args);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    protected async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] args)
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

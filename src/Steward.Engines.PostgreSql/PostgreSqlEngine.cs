using System.Globalization;
using System.Text;
using Npgsql;
using Steward.Catalog;
using Steward.Instances;
using Steward.Runtime;
using Steward.Supervision;

namespace Steward.Engines.PostgreSql;

/// <summary>
/// Runs each instance as its own PostgreSQL server. Applications use the database <c>app</c>, owned by the
/// NOLOGIN role <c>app_owner</c>; every read-write binding is a LOGIN role that is a member of app_owner and
/// acts as it, so tables created through one binding are usable through every other.
/// </summary>
public sealed partial class PostgreSqlEngine : IDataServiceEngine, IPreparedDataDirectories
{
    /// <summary>The database applications use.</summary>
    public const string Database = "app";

    private const string OwnerRole = "app_owner";
    private readonly string _binDir;
    private readonly Wal.PostgreSqlWalOptions? _wal;

    public PostgreSqlEngine(PostgreSqlEngineOptions options, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var binDir = options.BinDir ?? PostgreSqlEngineOptions.DiscoverBinDir();
        _binDir = binDir ?? "/usr/lib/postgresql/15/bin";
        var missing = new[] { "postgres", "initdb" }.Where(b => !File.Exists(Path.Combine(_binDir, b))).ToList();
        Unavailable = binDir is null
            ? "PostgreSQL server binaries not found under /usr/lib/postgresql; install them with: apt-get install postgresql-15, or set STEWARD_POSTGRESQL_BIN_DIR"
            : missing.Count > 0
                ? $"{string.Join(" and ", missing)} not found in {_binDir} (STEWARD_POSTGRESQL_BIN_DIR or the newest /usr/lib/postgresql/N/bin); install them with: apt-get install postgresql-15"
                : null;
        _wal = options.Wal;
        _heartbeatInterval = options.HeartbeatInterval;
        BackupReadsDataDirectory = options.BackupReadsDataDirectory;
        _checkConnections = new HeldCheckConnections<NpgsqlConnection>(options.CheckReconnectInterval, _time);
    }

    public ServiceOffering Offering => PostgreSqlCatalog.Offering;

    /// <summary>See <see cref="PostgreSqlEngineOptions.BackupReadsDataDirectory"/>.</summary>
    public bool BackupReadsDataDirectory { get; }

    /// <summary>The broker's clock.</summary>
    public TimeProvider Time => _time;

    public string? Unavailable { get; }

    /// <summary>
    /// initdb with data checksums on, so damage to a page is detected when it is read (and by
    /// <c>pg_checksums</c>/<c>pg_amcheck</c>) rather than served as data; then the application's database and
    /// owner role, created before any server listens (see PostgreSqlEngine.Prepare.cs).
    /// </summary>
    public Task InitializeAsync(EngineContext context, CancellationToken cancellationToken) => PrepareAsync(context, 0, cancellationToken);

    /// <summary>initdb only fills the data directory, which the restore replaces whole; the rest is <see cref="ConfigureAsync"/>'s.</summary>
    public Task InitializeForRestoreAsync(EngineContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    public bool AdminPasswordInData => true;

    public async Task AdoptRestoredAdminAsync(EngineContext context, string restoredAdminPassword, CancellationToken cancellationToken)
    {
        try
        {
            await using var current = await OpenAdminAsync(context, "postgres", cancellationToken);
            return;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            // Still the source's password: changed below.
        }

        var restored = context with { Instance = context.Instance with { AdminPassword = restoredAdminPassword } };
        await using var conn = await OpenAdminAsync(restored, "postgres", cancellationToken);
        await ExecuteAsync(conn, $"ALTER ROLE {Quote(context.Instance.AdminUser)} PASSWORD '{ScramVerifier.Compute(context.Instance.AdminPassword)}'", cancellationToken);
    }

    public async Task ConfigureAsync(EngineContext context, CancellationToken cancellationToken)
    {
        var p = new ParameterValues(context.Instance.ParametersJson);
        var limits = context.Plan.Limits;
        var maxConnections = Math.Min(p.Integer("max_connections") ?? limits.MaxConnections, limits.MaxConnections);
        var conf = new StringBuilder()
            .AppendLine("# Written by Steward for this instance; changes are overwritten on update.")
            .AppendLine(CultureInfo.InvariantCulture, $"data_directory = '{context.Paths.DataDir}'")
            .AppendLine(CultureInfo.InvariantCulture, $"hba_file = '{Path.Combine(context.Paths.ConfigDir, "pg_hba.conf")}'")
            .AppendLine(CultureInfo.InvariantCulture, $"ident_file = '{Path.Combine(context.Paths.ConfigDir, "pg_ident.conf")}'")
            .AppendLine(CultureInfo.InvariantCulture, $"listen_addresses = '{context.Runtime.ListenAddress}'")
            .AppendLine(CultureInfo.InvariantCulture, $"port = {context.Port}")
            .AppendLine("unix_socket_directories = ''")
            .AppendLine(CultureInfo.InvariantCulture, $"max_connections = {maxConnections}")
            // The supervisor's check holds one superuser session on a standalone primary (PostgreSqlEngine.Check.cs),
            // which takes a connection slot for good: one reserved slot fewer leaves applications the max_connections - 3
            // they had when the check's session came and went.
            .AppendLine(CultureInfo.InvariantCulture, $"superuser_reserved_connections = {(context.Plan.HighlyAvailable ? 3 : 2)}")
            .AppendLine(CultureInfo.InvariantCulture, $"shared_buffers = '{Math.Max(16, limits.MemoryMb / 4)}MB'")
            .AppendLine(CultureInfo.InvariantCulture, $"effective_cache_size = '{Math.Max(32, limits.MemoryMb * 3 / 4)}MB'")
            .AppendLine(CultureInfo.InvariantCulture, $"statement_timeout = {p.Integer("statement_timeout_ms") ?? 0}")
            .AppendLine(CultureInfo.InvariantCulture, $"work_mem = '{Math.Min(p.Integer("work_mem_kb") ?? 4096, limits.MemoryMb * 1024 / 4)}kB'")
            .AppendLine("password_encryption = 'scram-sha-256'")
            .AppendLine("logging_collector = off")
            .AppendLine("log_destination = 'stderr'")
            .AppendLine("log_line_prefix = '%m [%p] %q%u@%d '")
            .AppendLine("wal_level = 'replica'")
            .AppendLine("max_wal_senders = 5")
            .AppendLine("wal_keep_size = '256MB'")
            // Members of an ha instance archive too (archive_mode = always, the same archive secret in every member's
            // config/, shared when a member is built): docs/high-availability.md#wal-archiving.
            .Append(await Wal.WalHelper.ConfigureAsync(context, _wal, cancellationToken, member: context.Plan.HighlyAvailable))
            .AppendLine(CultureInfo.InvariantCulture, $"include_if_exists = '{Path.Combine(context.Paths.ConfigDir, "replication.conf")}'")
            .ToString();
        await context.Runtime.WriteFileAsync(Path.Combine(context.Paths.ConfigDir, "postgresql.conf"), conf, cancellationToken);
        await context.Runtime.WriteFileAsync(
            Path.Combine(context.Paths.ConfigDir, "pg_hba.conf"),
            $"# TYPE  DATABASE     USER  ADDRESS       METHOD\nhost    all          all   {context.Runtime.ClientNetwork}  scram-sha-256\nhost    replication  all   {context.Runtime.ClientNetwork}  scram-sha-256\n",
            cancellationToken);
        await context.Runtime.WriteFileAsync(Path.Combine(context.Paths.ConfigDir, "pg_ident.conf"), string.Empty, cancellationToken);
    }

    public ProcessLaunch Launch(EngineContext context) =>
        new(Path.Combine(_binDir, "postgres"), ["-D", context.Paths.DataDir, "-c", "config_file=" + Path.Combine(context.Paths.ConfigDir, "postgresql.conf")])
        {
            StopSignal = 2, // SIGINT: fast shutdown
        };

    public Diagnosis? Diagnose(EngineContext context, IReadOnlyList<string> logSinceStart) =>
        PostgreSqlDiagnostics.Diagnose(context.Paths.DataDir, logSinceStart, context.Runtime.FirstMissing);

    public async Task BootstrapAsync(EngineContext context, CancellationToken cancellationToken)
    {
        // A data directory the warm pool prepared has the application database already (so does a rerun): then one
        // session in it does everything, in one round trip, instead of a second session for the database's creation
        // (each new session is a SCRAM exchange and a backend fork: the pool's provision spent 124 ms in this step).
        NpgsqlConnection? app = null;
        try
        {
            app = await OpenAdminAsync(context, Database, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            await using var conn = await OpenAdminAsync(context, "postgres", cancellationToken);
            await ExecuteAsync(conn, EnsureOwnerRole, cancellationToken);
            await ExecuteAsync(conn, $"CREATE DATABASE {Database} OWNER {OwnerRole}", cancellationToken);
        }

        await using (app ??= await OpenAdminAsync(context, Database, cancellationToken))
        {
            await ExecuteAsync(app, $"{EnsureOwnerRole}; REVOKE ALL ON DATABASE {Database} FROM PUBLIC; ALTER SCHEMA public OWNER TO {OwnerRole}", cancellationToken);
        }
    }

    /// <summary>Creates the role that owns the application database's objects, unless it exists.</summary>
    private static string EnsureOwnerRole => $"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OwnerRole}') THEN CREATE ROLE {OwnerRole} NOLOGIN; END IF; END $$";

    public async Task CreateCredentialsAsync(EngineContext context, ServiceBinding binding, CancellationToken cancellationToken)
    {
        var readOnly = new ParameterValues(binding.ParametersJson).Boolean("read_only") ?? false;
        var role = Quote(binding.Username);
        var verifier = ScramVerifier.Compute(binding.Password);
        await using var conn = await OpenAdminAsync(context, "postgres", cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = @r", conn))
        {
            exists.Parameters.AddWithValue("r", binding.Username);
            var verb = await exists.ExecuteScalarAsync(cancellationToken) is null ? "CREATE" : "ALTER";
            await ExecuteAsync(conn, $"{verb} ROLE {role} LOGIN PASSWORD '{verifier}'", cancellationToken);
        }

        if (readOnly)
        {
            await ExecuteAsync(conn, $"GRANT pg_read_all_data TO {role}", cancellationToken);
            await ExecuteAsync(conn, $"GRANT CONNECT ON DATABASE {Database} TO {role}", cancellationToken);
        }
        else
        {
            await ExecuteAsync(conn, $"GRANT {OwnerRole} TO {role}", cancellationToken);
            await ExecuteAsync(conn, $"ALTER ROLE {role} SET role = '{OwnerRole}'", cancellationToken);
        }
    }

    public async Task RevokeCredentialsAsync(EngineContext context, ServiceBinding binding, CancellationToken cancellationToken)
    {
        var role = Quote(binding.Username);
        await using (var conn = await OpenAdminAsync(context, "postgres", cancellationToken))
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = @r", conn);
            exists.Parameters.AddWithValue("r", binding.Username);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                return;
            }

            // No new logins first, then end the sessions it has, so nothing keeps working after unbind.
            await ExecuteAsync(conn, $"ALTER ROLE {role} NOLOGIN", cancellationToken);
            await using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = @r", conn);
            kill.Parameters.AddWithValue("r", binding.Username);
            await kill.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var app = await OpenAdminAsync(context, Database, cancellationToken))
        {
            await ExecuteAsync(app, $"REASSIGN OWNED BY {role} TO {OwnerRole}", cancellationToken);
            await ExecuteAsync(app, $"DROP OWNED BY {role}", cancellationToken);
        }

        await using var admin = await OpenAdminAsync(context, "postgres", cancellationToken);
        await ExecuteAsync(admin, $"DROP ROLE IF EXISTS {role}", cancellationToken);
    }

    public async Task ReconcileCredentialsAsync(EngineContext context, IReadOnlyList<ServiceBinding> bindings, CancellationToken cancellationToken)
    {
        var wanted = bindings.Select(b => b.Username).ToHashSet(StringComparer.Ordinal);
        var present = new List<string>();
        await using (var conn = await OpenAdminAsync(context, "postgres", cancellationToken))
        await using (var cmd = new NpgsqlCommand("SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname <> @admin", conn))
        {
            cmd.Parameters.AddWithValue("admin", context.Instance.AdminUser);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                present.Add(reader.GetString(0));
            }
        }

        foreach (var stale in present.Where(r => !wanted.Contains(r)))
        {
            await RevokeCredentialsAsync(context, new ServiceBinding
            {
                Id = stale, InstanceId = context.Instance.Id, ServiceId = context.Instance.ServiceId, PlanId = context.Instance.PlanId,
                Username = stale, Password = string.Empty, State = BindingState.Deleting, CreatedAt = default,
            }, cancellationToken);
        }

        foreach (var binding in bindings)
        {
            await CreateCredentialsAsync(context, binding, cancellationToken);
        }
    }

    internal string BinDir => _binDir;

    /// <summary>The WAL archiving every instance is configured with; null when off.</summary>
    public Wal.PostgreSqlWalOptions? WalOptions => _wal;

    public IReadOnlyDictionary<string, object> Credentials(EngineContext context, ServiceBinding binding) => new Dictionary<string, object>
    {
        ["uri"] = $"postgresql://{binding.Username}:{binding.Password}@{context.Host}:{context.Port}/{Database}",
        ["jdbcUrl"] = $"jdbc:postgresql://{context.Host}:{context.Port}/{Database}?user={binding.Username}&password={binding.Password}",
        ["host"] = context.Host,
        ["port"] = context.Port,
        ["username"] = binding.Username,
        ["password"] = binding.Password,
        ["database"] = Database,
        ["read_only"] = new ParameterValues(binding.ParametersJson).Boolean("read_only") ?? false,
    };

    internal static async Task<NpgsqlConnection> OpenAdminAsync(EngineContext context, string database, CancellationToken cancellationToken, string? applicationName = null)
    {
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = context.Host,
            Port = context.Port,
            Username = context.Instance.AdminUser,
            Password = context.Instance.AdminPassword,
            Database = database,
            Pooling = false,
            Timeout = 5,
            CommandTimeout = 30,
            ApplicationName = applicationName,
        };
        var conn = new NpgsqlConnection(csb.ConnectionString);
        try
        {
            await conn.OpenAsync(cancellationToken);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Tail(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(" | ", lines.TakeLast(5));
    }
}

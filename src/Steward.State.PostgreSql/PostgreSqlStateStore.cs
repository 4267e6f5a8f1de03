using System.Data.Common;
using System.Security.Cryptography;
using Npgsql;
using Steward.Security;
using Steward.State.Relational;

namespace Steward.State.PostgreSql;

/// <summary>
/// Steward's state in a PostgreSQL database, for a broker that must outlive its machine or pod: every write is
/// committed (and so durable, as the server's <c>synchronous_commit</c> says) when the call returns, and brokers that
/// share the database see one state. Credentials are sealed with the <see cref="CredentialKey"/> as in SQLite; the key
/// stays outside the database, so each broker that uses the store needs the same key file.
/// </summary>
public sealed class PostgreSqlStateStore : RelationalStateStore, IAsyncDisposable
{
    private const string KeyCheckContext = "steward_meta.key_check";

    private readonly NpgsqlDataSource _dataSource;

    public PostgreSqlStateStore(PostgreSqlConnection connection, CredentialKey key)
        : base(key, SqlDialect.PostgreSql)
    {
        Connection = connection;
        _dataSource = connection.CreateDataSource();
    }

    /// <summary>Where the store is, without its password.</summary>
    public PostgreSqlConnection Connection { get; }

    /// <summary>The pooled connections of the store, for what keeps its own rows beside the state (the broker lease).</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>
    /// Creates the tables (under a transaction-scoped advisory lock, so brokers starting together take turns) and checks
    /// that the credentials key is the one the store's credentials were sealed with: a broker started with another key
    /// stops here instead of failing on the first credential it reads.
    /// </summary>
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var conn = await OpenAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        await ExecAsync(conn, $"SELECT pg_advisory_xact_lock({PostgreSqlSchema.InitializationLock})", cancellationToken);
        await ExecAsync(conn, RelationalSchema.Create(SqlDialect.PostgreSql), cancellationToken);
        foreach (var migration in PostgreSqlSchema.Migrations)
        {
            await ExecAsync(conn, migration, cancellationToken);
        }

        await ExecAsync(conn, RelationalSchema.IndexesAfterMigration, cancellationToken);

        await using (var insert = Command(conn, "INSERT INTO steward_meta (key, value) VALUES ('key_check', @v) ON CONFLICT (key) DO NOTHING", ("@v", Key.Seal("steward", KeyCheckContext))))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var read = Command(conn, "SELECT value FROM steward_meta WHERE key = 'key_check'"))
        {
            var check = (string)(await read.ExecuteScalarAsync(cancellationToken))!;
            try
            {
                Key.Open(check, KeyCheckContext);
            }
            catch (CryptographicException ex)
            {
                throw new InvalidOperationException(
                    $"the state store at {Connection.Description} was written with another credentials key than {CredentialKey.FileName}: give every broker that uses it the same key file",
                    ex);
            }
        }

        await tx.CommitAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);
}

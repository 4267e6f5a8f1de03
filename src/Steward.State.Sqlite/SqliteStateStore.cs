using System.Data.Common;
using Microsoft.Data.Sqlite;
using Steward.Security;
using Steward.State.Relational;

namespace Steward.State.Sqlite;

/// <summary>
/// Steward's state in one SQLite file (WAL, synchronous=FULL: a write is on disk when the call returns), the default
/// store of a broker that runs alone. The file holds credentials, so it is created readable by its owner only.
/// </summary>
public sealed partial class SqliteStateStore : RelationalStateStore
{
    private readonly string _path;
    private readonly string _connectionString;

    static SqliteStateStore() => SQLitePCL.Batteries_V2.Init();

    /// <summary>A store in <paramref name="path"/>; credentials in it are sealed with <paramref name="key"/>, which is kept apart.</summary>
    public SqliteStateStore(string path, CredentialKey key)
        : base(key, SqlDialect.Sqlite)
    {
        _path = Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = _path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
    }

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        SecretFile.TryCreate(_path, ReadOnlySpan<byte>.Empty);

        await using var conn = await OpenAsync(cancellationToken);
        await ExecAsync(conn, "PRAGMA journal_mode=WAL;", cancellationToken);
        await ExecAsync(conn, RelationalSchema.Create(SqlDialect.Sqlite), cancellationToken);
        foreach (var (table, from, to) in Schema.RenamedColumns)
        {
            if ((await QueryAsync($"SELECT 1 FROM pragma_table_info('{table}') WHERE name = @c", r => 1, cancellationToken, ("@c", from))).Count > 0)
            {
                await ExecAsync(conn, $"ALTER TABLE {table} RENAME COLUMN {from} TO {to}", cancellationToken);
            }
        }

        await AddColumnsAsync(conn, cancellationToken);
        await ExecAsync(conn, RelationalSchema.IndexesAfterMigration, cancellationToken);
        await SealLegacyCredentialsAsync(conn, cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var conn = new SqliteConnection(_connectionString);
        await conn.OpenAsync(cancellationToken);
        await ExecAsync(conn, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;", cancellationToken);
        return conn;
    }

    /// <summary>Adds the columns of <see cref="Schema.AddedColumns"/> that a table of an earlier release lacks.</summary>
    private async Task AddColumnsAsync(DbConnection conn, CancellationToken cancellationToken)
    {
        foreach (var (table, column, definition) in Schema.AddedColumns)
        {
            var exists = await QueryAsync("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = @t", r => 1, cancellationToken, ("@t", table));
            var present = await QueryAsync($"SELECT 1 FROM pragma_table_info('{table}') WHERE name = @c", r => 1, cancellationToken, ("@c", column));
            if (exists.Count > 0 && present.Count == 0)
            {
                await ExecAsync(conn, $"ALTER TABLE {table} ADD COLUMN {column} {definition}", cancellationToken);
            }
        }
    }
}

using Steward.Security;
using Steward.Server.Tests.Infrastructure;
using Steward.State.PostgreSql;
using Steward.State.Relational;
using Steward.State.Sqlite;

namespace Steward.Server.Tests.StateStore;

/// <summary>Makes the store a contract test runs against: a SQLite file, or a fresh database on the real PostgreSQL.</summary>
public sealed class StoreFactory(StatePostgres postgres) : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "steward-tests", "store-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<IAsyncDisposable> _owned = [];

    public static TheoryData<string> Kinds => new() { "sqlite", "postgresql" };

    public CredentialKey Key
    {
        get
        {
            Directory.CreateDirectory(_dir);
            return CredentialKey.LoadOrCreate(Path.Combine(_dir, CredentialKey.FileName));
        }
    }

    /// <summary>A new, initialized store of <paramref name="kind"/>; <paramref name="where"/> reopens the same one.</summary>
    public async Task<(RelationalStateStore Store, string Where)> CreateAsync(string kind, string? where = null, CredentialKey? key = null)
    {
        Directory.CreateDirectory(_dir);
        where ??= kind == "sqlite" ? Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8] + ".db") : await postgres.CreateDatabaseAsync();
        RelationalStateStore store = kind == "sqlite"
            ? new SqliteStateStore(where, key ?? Key)
            : new PostgreSqlStateStore(PostgreSqlConnectionParse(where), key ?? Key);
        if (store is IAsyncDisposable disposable)
        {
            _owned.Add(disposable);
        }

        await store.InitializeAsync(CancellationToken.None);
        return (store, where);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static PostgreSqlConnection PostgreSqlConnectionParse(string uri) =>
        PostgreSqlConnection.TryParse(uri, out var connection, out var problem) ? connection! : throw new InvalidOperationException(problem);
}

using System.Text.Json;
using Npgsql;

namespace Steward.Engines.PostgreSql.Rehearsal;

/// <summary>
/// Exact row counts of every table of every database (templates excepted), each database's counts read in one
/// repeatable-read snapshot. Recorded into a backup's manifest before and after the backup runs; a rehearsal
/// counts the restored sandbox the same way and compares.
/// </summary>
internal static class RowCounts
{
    /// <summary>The manifest property: <c>{"db": {"schema.table": [rows before, rows after]}}</c>.</summary>
    public const string Property = "row_counts";

    private const string Tables = """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' AND c.relpersistence = 'p'
        ORDER BY 1, 2
        """;

    public static async Task<Dictionary<string, Dictionary<string, long>>> CountAsync(EngineContext context, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var database in await DatabasesAsync(context, cancellationToken))
        {
            result[database] = await CountDatabaseAsync(context, database, cancellationToken);
        }

        return result;
    }

    /// <summary>
    /// The next transaction id not yet completed (<c>pg_snapshot_xmax</c> of a new snapshot, 64-bit). A row of a
    /// permanent table is only inserted, deleted or truncated by a transaction that takes an id, and every such
    /// transaction that ends (commits or aborts) moves this on; so while it has not moved, no table's row count changed.
    /// </summary>
    public static async Task<ulong> NextTransactionAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_snapshot_xmax(pg_current_snapshot())::text", conn, tx);
        return ulong.Parse((string)(await cmd.ExecuteScalarAsync(cancellationToken))!, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<List<string>> DatabasesAsync(EngineContext context, CancellationToken cancellationToken)
    {
        var databases = new List<string>();
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1", conn);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            databases.Add(reader.GetString(0));
        }

        return databases;
    }

    public static async Task<Dictionary<string, long>> CountDatabaseAsync(EngineContext context, string database, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, database, cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var counts = await CountInAsync(conn, tx, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return counts;
    }

    /// <summary>Every table's rows in one database, read in <paramref name="tx"/>'s repeatable-read snapshot.</summary>
    public static async Task<Dictionary<string, long>> CountInAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var tables = new List<(string Schema, string Name)>();
        await using (var list = new NpgsqlCommand(Tables, conn, tx))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var (schema, name) in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {Quote(schema)}.{Quote(name)}", conn, tx) { CommandTimeout = 0 };
            counts[$"{schema}.{name}"] = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return counts;
    }

    public static string Serialize(Dictionary<string, Dictionary<string, long>> before, Dictionary<string, Dictionary<string, long>> after)
    {
        var merged = new SortedDictionary<string, SortedDictionary<string, long[]>>(StringComparer.Ordinal);
        foreach (var (database, tables) in after)
        {
            var entry = merged[database] = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
            foreach (var (table, rows) in tables)
            {
                // A table created during the backup has no count from before it: it may or may not be in the backup.
                entry[table] = [before.GetValueOrDefault(database)?.GetValueOrDefault(table, -1) ?? -1, rows];
            }
        }

        return JsonSerializer.Serialize(merged);
    }

    public static Dictionary<string, Dictionary<string, long[]>>? Parse(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, long[]>>>(json);

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

using System.Globalization;
using Npgsql;
using Steward.Wal;

namespace Steward.Engines.PostgreSql.Repair;

/// <summary>
/// The SQL a partial repair needs from a running server: the live server's WAL position and whether it keeps data
/// checksums, the copy's replay position, and amcheck of the relations a repair touches (their heap and B-tree
/// indexes, each index entry against its heap), on the live server or on the copy while it is a hot standby.
/// </summary>
public static class PostgreSqlRepair
{
    public static async Task<bool> DataChecksumsAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT current_setting('data_checksums')", conn);
        return (string?)await cmd.ExecuteScalarAsync(cancellationToken) == "on";
    }

    /// <summary>The live server's WAL write position: what its pg_wal files hold at least.</summary>
    public static async Task<long> CurrentLsnAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", conn);
        return Lsn.Parse((string)(await cmd.ExecuteScalarAsync(cancellationToken))!);
    }

    /// <summary>How far a server in recovery has replayed (the end of the last record); null before it accepts connections.</summary>
    public static async Task<long?> ReplayLsnAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn()::text", conn);
        return await cmd.ExecuteScalarAsync(cancellationToken) is string s && Lsn.TryParse(s, out var lsn) ? lsn : null;
    }

    /// <summary>
    /// amcheck of the relation stored in <paramref name="file"/> (<c>base/DB/FILENODE[.N]</c> or <c>global/FILENODE</c>):
    /// <c>verify_heapam</c> of a table and <c>bt_index_check(…, heapallindexed)</c> of each of its B-tree indexes, or of the
    /// index itself. Null evidence when clean; a server in recovery cannot install amcheck, so without it the check says so.
    /// </summary>
    public static async Task<RelationCheck> CheckRelationAsync(EngineContext context, string database, string file, bool installMissing, CancellationToken cancellationToken)
    {
        var parts = file.Split('/');
        var filenode = long.Parse(parts[^1].Split('.', '_')[0], CultureInfo.InvariantCulture);
        var tablespace = parts[0] == "global" ? 1664L : 0L;
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, tablespace == 1664 ? "postgres" : database, cancellationToken);
        if (installMissing)
        {
            await using var install = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS amcheck", conn);
            await install.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var schemaCmd = new NpgsqlCommand("SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'", conn);
        if (await schemaCmd.ExecuteScalarAsync(cancellationToken) is not string schema)
        {
            return new RelationCheck(null, 0, null, $"the amcheck extension is not installed in database {database}");
        }

        await using var relCmd = new NpgsqlCommand("SELECT c.oid::bigint, c.oid::regclass::text, c.relkind::text, coalesce(a.amname, '') FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam WHERE c.oid = pg_filenode_relation(@t::bigint::oid, @f::bigint::oid)", conn);
        relCmd.Parameters.AddWithValue("t", tablespace);
        relCmd.Parameters.AddWithValue("f", filenode);
        long oid;
        string name, kind, am;
        await using (var r = await relCmd.ExecuteReaderAsync(cancellationToken))
        {
            if (!await r.ReadAsync(cancellationToken))
            {
                return new RelationCheck(null, 0, null, $"file {file} belongs to no relation of database {database} any more");
            }

            (oid, name, kind, am) = (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3));
        }

        var checkedCount = 0;
        try
        {
            var indexes = new List<long>();
            if (kind is "r" or "m" or "t")
            {
                await using var heap = new NpgsqlCommand($"SELECT blkno, offnum, msg FROM {schema}.verify_heapam(@o::bigint::oid::regclass, check_toast => true) LIMIT 5", conn) { CommandTimeout = 0 };
                heap.Parameters.AddWithValue("o", oid);
                var problems = new List<string>();
                await using (var r = await heap.ExecuteReaderAsync(cancellationToken))
                {
                    while (await r.ReadAsync(cancellationToken))
                    {
                        problems.Add($"block {r.GetInt64(0)}: {r.GetString(2)}");
                    }
                }

                checkedCount++;
                if (problems.Count > 0)
                {
                    return new RelationCheck(name, checkedCount, $"verify_heapam({name}): {string.Join("; ", problems)}", null);
                }

                await using var list = new NpgsqlCommand("SELECT i.indexrelid::bigint FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = @o::bigint::oid AND a.amname = 'btree' AND i.indisvalid", conn);
                list.Parameters.AddWithValue("o", oid);
                await using var r2 = await list.ExecuteReaderAsync(cancellationToken);
                while (await r2.ReadAsync(cancellationToken))
                {
                    indexes.Add(r2.GetInt64(0));
                }
            }
            else if (kind == "i" && am == "btree")
            {
                indexes.Add(oid);
            }

            foreach (var index in indexes)
            {
                await using var bt = new NpgsqlCommand($"SELECT {schema}.bt_index_check(@i::bigint::oid::regclass, true)", conn) { CommandTimeout = 0 };
                bt.Parameters.AddWithValue("i", index);
                await bt.ExecuteNonQueryAsync(cancellationToken);
                checkedCount++;
            }

            return new RelationCheck(name, checkedCount, null, null);
        }
        catch (PostgresException ex)
        {
            return new RelationCheck(name, checkedCount, $"{name}: {ex.MessageText}", null);
        }
    }
}

/// <summary>What amcheck said about one relation and its indexes: <see cref="Problem"/> null when clean, <see cref="Skipped"/> when it could not run.</summary>
public sealed record RelationCheck(string? Relation, int RelationsChecked, string? Problem, string? Skipped);

using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Steward.Engines.PostgreSql.Rehearsal;
using Steward.Rehearsals;

namespace Steward.Engines.PostgreSql.Verify;

/// <summary>
/// Finds damaged pages in a live PostgreSQL instance, without stopping it: <c>pg_amcheck --heapallindexed</c> over every
/// relation of every database (at low CPU and IO priority; reading a page whose checksum does not match fails with
/// its block and file), the server's own counters (<c>pg_stat_database.checksum_failures</c>) and the checksum and
/// invalid-page errors in its log since its last start. Files are named by path (<c>base/&lt;db&gt;/&lt;filenode&gt;</c>) and
/// mapped to relations.
/// </summary>
public sealed partial class PostgreSqlVerifier(PostgreSqlEngine engine)
{
    /// <summary>
    /// Checks the live server. <paramref name="failuresSince"/>: checksum failures the server counted last at or before
    /// this time are not counted (the counters survive restarts; a repair fixed those pages then).
    /// </summary>
    public async Task<VerifyReport> VerifyAsync(EngineContext context, IReadOnlyList<string> logSinceStart, CancellationToken cancellationToken, DateTimeOffset? failuresSince = null)
    {
        var found = new Dictionary<string, (SortedSet<long> Blocks, SortedSet<string> By)>(StringComparer.Ordinal);
        var evidence = new List<string>();
        void Add(string file, long? block, string by)
        {
            if (!found.TryGetValue(file, out var entry))
            {
                found[file] = entry = ([], new SortedSet<string>(StringComparer.Ordinal));
            }

            if (block is { } b)
            {
                entry.Blocks.Add(b);
            }

            entry.By.Add(by);
        }

        foreach (var line in logSinceStart)
        {
            if (InvalidPage().Match(line) is { Success: true } m)
            {
                Add(m.Groups[2].Value, long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), "server log");
                evidence.Add("server log: " + line.Trim());
            }
            else if (line.Contains("page verification failed", StringComparison.Ordinal))
            {
                evidence.Add("server log: " + line.Trim());
            }
        }

        var (relations, amcheckOutput, amcheckOk) = await AmcheckAsync(context, cancellationToken);
        foreach (var line in amcheckOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (InvalidPage().Match(line) is { Success: true } m)
            {
                Add(m.Groups[2].Value, long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), "pg_amcheck");
            }

            if (!amcheckOk || line.Contains("error", StringComparison.OrdinalIgnoreCase) || line.Contains("corrupt", StringComparison.OrdinalIgnoreCase))
            {
                evidence.Add("pg_amcheck: " + line);
            }
        }

        var failures = await ChecksumFailuresAsync(context, failuresSince, cancellationToken);
        var damaged = new List<DamagedRelation>();
        foreach (var (file, (blocks, by)) in found)
        {
            var (database, relation) = await RelationOfAsync(context, file, cancellationToken);
            damaged.Add(new DamagedRelation(database, relation, file, [.. blocks], [.. by]));
        }

        return new VerifyReport(damaged, failures, relations, evidence.Distinct().Take(50).ToList());
    }

    private async Task<(long Relations, string Output, bool Ok)> AmcheckAsync(EngineContext context, CancellationToken cancellationToken)
    {
        var passfile = Path.Combine(context.Paths.ConfigDir, "verify.pgpass");
        await context.Runtime.WriteFileAsync(passfile, PgPassFile.Line(context.Instance.AdminUser, context.Instance.AdminPassword, "127.0.0.1", context.Port.ToString(CultureInfo.InvariantCulture)), cancellationToken);
        try
        {
            long relations = 0;
            foreach (var database in await RowCounts.DatabasesAsync(context, cancellationToken))
            {
                await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, database, cancellationToken);
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam WHERE c.relpersistence <> 't' AND (c.relkind IN ('r', 'm', 't') OR (c.relkind = 'i' AND a.amname = 'btree'))", conn);
                relations += (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
            }

            var (file, args) = LowPriority.Wrap(
                Path.Combine(engine.BinDir, "pg_amcheck"),
                ["-h", context.Host, "-p", context.Port.ToString(CultureInfo.InvariantCulture), "-U", context.Instance.AdminUser, "-w", "--all", "--heapallindexed", "--install-missing", "--no-strict-names"]);
            var result = await context.Runtime.RunToolAsync(context.Paths, file, args, new Dictionary<string, string> { ["PGPASSFILE"] = passfile, ["PGCONNECT_TIMEOUT"] = "10" }, cancellationToken);

            // "NOTICE: extension "amcheck" already exists, skipping" (--install-missing on a later run) is no finding.
            var output = string.Join('\n', result.Output.Split('\n').Where(l => !l.TrimStart().StartsWith("NOTICE:", StringComparison.Ordinal)));
            return (relations, output, result.Succeeded && output.Trim().Length == 0);
        }
        finally
        {
            File.Delete(passfile);
        }
    }

    private static async Task<Dictionary<string, long>> ChecksumFailuresAsync(EngineContext context, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        var failures = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT coalesce(datname, '(shared)'), coalesce(checksum_failures, 0), checksum_last_failure IS NOT NULL AND (@since::timestamptz IS NULL OR checksum_last_failure > @since::timestamptz) FROM pg_stat_database", conn);
        cmd.Parameters.AddWithValue("since", NpgsqlTypes.NpgsqlDbType.TimestampTz, since is { } s ? s.UtcDateTime : DBNull.Value);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            failures[reader.GetString(0)] = reader.GetBoolean(2) ? reader.GetInt64(1) : 0;
        }

        return failures;
    }

    /// <summary>The database and relation a file (<c>base/DBOID/FILENODE[.N]</c>) belongs to.</summary>
    private static async Task<(string Database, string? Relation)> RelationOfAsync(EngineContext context, string file, CancellationToken cancellationToken)
    {
        var parts = file.Split('/');
        if (parts.Length != 3 || parts[0] != "base" || !uint.TryParse(parts[1], out var dbOid) || !uint.TryParse(parts[2].Split('.')[0], out var filenode))
        {
            return ("(shared)", null);
        }

        string? database;
        await using (var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken))
        await using (var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE oid = @o::bigint::oid", conn))
        {
            cmd.Parameters.AddWithValue("o", (long)dbOid);
            database = await cmd.ExecuteScalarAsync(cancellationToken) as string;
        }

        if (database is null)
        {
            return ($"oid {dbOid}", null);
        }

        await using var db = await PostgreSqlEngine.OpenAdminAsync(context, database, cancellationToken);
        await using var rel = new NpgsqlCommand("SELECT pg_filenode_relation(0, @f::bigint::oid)::regclass::text", db);
        rel.Parameters.AddWithValue("f", (long)filenode);
        return (database, await rel.ExecuteScalarAsync(cancellationToken) as string);
    }

    [GeneratedRegex(@"invalid page in block (\d+) of relation ([A-Za-z0-9_/.]+)")]
    private static partial Regex InvalidPage();
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Steward.Engines.PostgreSql.Wal;
using Steward.Rehearsals;

namespace Steward.Engines.PostgreSql.Rehearsal;

/// <summary>
/// PostgreSQL's part of a restore rehearsal. The sandbox archives nothing and admits two roles only: the
/// administrator, whose password is replaced by the sandbox's own as soon as the restored server answers, and a
/// read-only role the developer's check runs as. Checks: <c>pg_amcheck --heapallindexed</c> over every relation of
/// every database, the row counts the backup recorded, the developer's SQL, and <c>pg_checksums --check</c> once the
/// sandbox has stopped.
/// </summary>
public sealed class PostgreSqlRehearsal(PostgreSqlEngine engine) : IRehearsalEngine
{
    /// <summary>The role the developer's check runs as in the sandbox: it can read every table and change nothing.</summary>
    public const string CheckRole = "steward_rehearsal_check";

    public string Service => "postgresql";

    public async Task ConfigureSandboxAsync(EngineContext sandbox, EngineContext live, CancellationToken cancellationToken)
    {
        var conf = Path.Combine(sandbox.Paths.ConfigDir, "postgresql.conf");
        var sandboxOnly = new StringBuilder(await File.ReadAllTextAsync(conf, cancellationToken))
            .AppendLine("# Restore rehearsal sandbox: nothing is archived (the WAL it writes is no one's); a disposable copy need not survive a power cut.")
            .AppendLine("archive_mode = off")
            .AppendLine("fsync = off")
            .AppendLine("full_page_writes = off")
            .ToString();
        await sandbox.Runtime.WriteFileAsync(conf, sandboxOnly, cancellationToken);
        await sandbox.Runtime.WriteFileAsync(
            Path.Combine(sandbox.Paths.ConfigDir, "pg_hba.conf"),
            $"# Restore rehearsal sandbox: the administrator (with the sandbox's own password) and the read-only check role only.\nhost    all  {sandbox.Instance.AdminUser}  127.0.0.1/32  scram-sha-256\nhost    all  {CheckRole}  127.0.0.1/32  scram-sha-256\n",
            cancellationToken);

        // restore_command fetches the live instance's archived WAL through the broker, which knows the instance by
        // its archive secret; archive_mode is off, so the sandbox never pushes with it.
        var header = Path.Combine(live.Paths.ConfigDir, WalHelper.HeaderName);
        if (File.Exists(header))
        {
            await sandbox.Runtime.WriteFileAsync(Path.Combine(sandbox.Paths.ConfigDir, WalHelper.HeaderName), await File.ReadAllTextAsync(header, cancellationToken), cancellationToken);
        }
    }

    public Task<IReadOnlyList<RehearsalCheck>> CheckFilesAsync(EngineContext sandbox, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RehearsalCheck>>([]);

    public async Task SecureAsync(EngineContext sandbox, string restoredAdminPassword, CancellationToken cancellationToken)
    {
        await engine.AdoptRestoredAdminAsync(sandbox, restoredAdminPassword, cancellationToken);
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(sandbox, "postgres", cancellationToken);
        var verifier = ScramVerifier.Compute(CheckPassword(sandbox));
        await using var exists = new NpgsqlCommand($"SELECT 1 FROM pg_roles WHERE rolname = '{CheckRole}'", conn);
        var verb = await exists.ExecuteScalarAsync(cancellationToken) is null ? "CREATE" : "ALTER";
        await using var create = new NpgsqlCommand($"{verb} ROLE {CheckRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{verifier}'", conn);
        await create.ExecuteNonQueryAsync(cancellationToken);
        await using var grant = new NpgsqlCommand($"GRANT pg_read_all_data TO {CheckRole}; GRANT pg_read_all_stats TO {CheckRole}; GRANT CONNECT ON DATABASE {PostgreSqlEngine.Database} TO {CheckRole}", conn);
        await grant.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<RehearsalCheck>> CheckRunningAsync(EngineContext sandbox, IReadOnlyDictionary<string, string> backupProperties, string? checkFile, CancellationToken cancellationToken)
    {
        var checks = new List<RehearsalCheck> { await AmcheckAsync(sandbox, cancellationToken) };
        checks.Add(await CompareRowCountsAsync(sandbox, backupProperties, cancellationToken));
        if (checkFile is not null)
        {
            checks.Add(await DeveloperCheckAsync(sandbox, checkFile, cancellationToken));
        }

        return checks;
    }

    public async Task<IReadOnlyList<RehearsalCheck>> CheckStoppedAsync(EngineContext sandbox, CancellationToken cancellationToken)
    {
        const string name = "data checksums";
        var (file, args) = LowPriority.Wrap(Path.Combine(engine.BinDir, "pg_checksums"), ["--check", "-D", sandbox.Paths.DataDir]);
        var result = await sandbox.Runtime.RunToolAsync(sandbox.Paths, file, args, null, cancellationToken);
        var output = result.Output.Trim();
        if (output.Contains("data checksums are not enabled", StringComparison.OrdinalIgnoreCase))
        {
            return [RehearsalCheck.Skipped(name, "the backed-up cluster was created without data checksums (pg_checksums: data checksums are not enabled); pg_amcheck still read every page")];
        }

        var details = Fields(output);
        return result.Succeeded
            ? [RehearsalCheck.Pass(name, $"pg_checksums --check: {details.GetValueOrDefault("Blocks scanned", "?")} blocks in {details.GetValueOrDefault("Files scanned", "?")} files, {details.GetValueOrDefault("Bad checksums", "0")} bad checksums") with { Details = details.ToDictionary(p => p.Key, p => (object?)p.Value) }]
            : [RehearsalCheck.Fail(name, $"pg_checksums --check failed (exit {result.ExitCode}): {Tail(output, 8)}") with { Details = details.ToDictionary(p => p.Key, p => (object?)p.Value) }];
    }

    public string? ValidateCheckFile(string checkFile) =>
        string.IsNullOrWhiteSpace(checkFile) ? "the check file is empty; it holds SQL whose every result must be one row with true, e.g. SELECT count(*) > 0 FROM orders" : null;

    private async Task<RehearsalCheck> AmcheckAsync(EngineContext sandbox, CancellationToken cancellationToken)
    {
        const string name = "pg_amcheck";
        var passfile = Path.Combine(sandbox.Paths.ConfigDir, "rehearsal.pgpass");
        await sandbox.Runtime.WriteFileAsync(passfile, PgPassFile.Line(sandbox.Instance.AdminUser, sandbox.Instance.AdminPassword, "127.0.0.1", sandbox.Port.ToString(CultureInfo.InvariantCulture)), cancellationToken);
        try
        {
            var (relations, databases) = await RelationCountAsync(sandbox, cancellationToken);
            var (file, args) = LowPriority.Wrap(
                Path.Combine(engine.BinDir, "pg_amcheck"),
                ["-h", sandbox.Host, "-p", sandbox.Port.ToString(CultureInfo.InvariantCulture), "-U", sandbox.Instance.AdminUser, "-w", "--all", "--heapallindexed", "--install-missing", "--no-strict-names"]);
            var result = await sandbox.Runtime.RunToolAsync(sandbox.Paths, file, args, new Dictionary<string, string> { ["PGPASSFILE"] = passfile, ["PGCONNECT_TIMEOUT"] = "10" }, cancellationToken);
            var output = result.Output.Trim();
            var scope = $"{relations} tables and B-tree indexes in {databases} databases (heap pages, TOAST and every index entry against its heap)";
            return result.Succeeded && output.Length == 0
                ? RehearsalCheck.Pass(name, $"pg_amcheck --heapallindexed: no corruption in {scope}") with { Details = new Dictionary<string, object?> { ["relations"] = relations, ["databases"] = databases } }
                : RehearsalCheck.Fail(name, $"pg_amcheck --heapallindexed reported problems (exit {result.ExitCode}) in {scope}: {Tail(output, 12)}") with { Details = new Dictionary<string, object?> { ["output"] = Tail(output, 40) } };
        }
        finally
        {
            File.Delete(passfile);
        }
    }

    private static async Task<(long Relations, int Databases)> RelationCountAsync(EngineContext sandbox, CancellationToken cancellationToken)
    {
        long relations = 0;
        var databases = await RowCounts.DatabasesAsync(sandbox, cancellationToken);
        foreach (var database in databases)
        {
            await using var conn = await PostgreSqlEngine.OpenAdminAsync(sandbox, database, cancellationToken);
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_class c LEFT JOIN pg_am a ON a.oid = c.relam WHERE c.relpersistence <> 't' AND (c.relkind IN ('r', 'm', 't') OR (c.relkind = 'i' AND a.amname = 'btree'))", conn);
            relations += (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
        }

        return (relations, databases.Count);
    }

    private static async Task<RehearsalCheck> CompareRowCountsAsync(EngineContext sandbox, IReadOnlyDictionary<string, string> backupProperties, CancellationToken cancellationToken)
    {
        const string name = "row counts";
        if (RowCounts.Parse(backupProperties.GetValueOrDefault(RowCounts.Property)) is not { } recorded)
        {
            return RehearsalCheck.Skipped(name, backupProperties.TryGetValue("row_counts_error", out var error)
                ? $"the backup could not record row counts when it was taken: {error}"
                : "the backup recorded no row counts (taken before Steward recorded them, or a logical backup)");
        }

        var mismatches = new List<string>();
        var tables = new Dictionary<string, object?>();
        int exact = 0, ranged = 0;
        foreach (var (database, expected) in recorded)
        {
            Dictionary<string, long> restored;
            try
            {
                restored = await RowCounts.CountDatabaseAsync(sandbox, database, cancellationToken);
            }
            catch (PostgresException ex)
            {
                mismatches.Add($"database {database}: {ex.MessageText}");
                continue;
            }

            foreach (var (table, range) in expected)
            {
                var (before, after) = (range[0], range[1]);
                var key = $"{database}.{table}";
                if (!restored.TryGetValue(table, out var rows))
                {
                    if (before >= 0)
                    {
                        mismatches.Add($"{key} is missing (it held {after} rows when the backup ended)");
                    }

                    continue;
                }

                tables[key] = new Dictionary<string, object?> { ["at_backup_start"] = before, ["at_backup_end"] = after, ["restored"] = rows };
                if (before == after)
                {
                    exact++;
                    if (rows != after)
                    {
                        mismatches.Add($"{key} has {rows} rows, the backup's time {after}");
                    }
                }
                else
                {
                    // Written during the backup: the restored state lies between its start and its end. A table that
                    // gained and lost rows then can legitimately fall outside; it is not failed on that alone.
                    ranged++;
                }
            }
        }

        var evidence = $"{exact} tables unchanged during the backup match exactly, {ranged} written during the backup are in its range";
        return mismatches.Count == 0
            ? RehearsalCheck.Pass(name, evidence) with { Details = tables }
            : RehearsalCheck.Fail(name, string.Join("; ", mismatches.Take(10)) + (mismatches.Count > 10 ? $" (and {mismatches.Count - 10} more)" : string.Empty)) with { Details = tables };
    }

    private static async Task<RehearsalCheck> DeveloperCheckAsync(EngineContext sandbox, string sql, CancellationToken cancellationToken)
    {
        const string name = "developer check";
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = sandbox.Host, Port = sandbox.Port, Username = CheckRole, Password = CheckPassword(sandbox), Database = PostgreSqlEngine.Database,
            Pooling = false, Timeout = 10, CommandTimeout = 300,
        };
        try
        {
            await using var conn = new NpgsqlConnection(csb.ConnectionString);
            await conn.OpenAsync(cancellationToken);
            await using var tx = await conn.BeginTransactionAsync(cancellationToken);
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", conn, tx))
            {
                await readOnly.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            var results = 0;
            do
            {
                results++;
                var rows = 0;
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows++;
                    if (reader.FieldCount == 0 || reader.IsDBNull(0) || reader.GetValue(0) is not true)
                    {
                        return RehearsalCheck.Fail(name, $"query {results} of the check file returned {(reader.FieldCount == 0 || reader.IsDBNull(0) ? "null" : Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture))} in row {rows}, not true");
                    }
                }

                if (rows == 0 && reader.FieldCount > 0)
                {
                    return RehearsalCheck.Fail(name, $"query {results} of the check file returned no row; each must return true");
                }
            }
            while (await reader.NextResultAsync(cancellationToken));

            return RehearsalCheck.Pass(name, $"{results} {(results == 1 ? "query" : "queries")} of the check file returned true (run read-only as {CheckRole} in database {PostgreSqlEngine.Database})");
        }
        catch (PostgresException ex)
        {
            return RehearsalCheck.Fail(name, $"the check file failed: {ex.SqlState} {ex.MessageText}");
        }
    }

    private static string CheckPassword(EngineContext sandbox) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(sandbox.Instance.AdminPassword), "steward rehearsal check role"u8));

    private static Dictionary<string, string> Fields(string output) =>
        output.Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2).GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());

    private static string Tail(string output, int lines) => string.Join(" | ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
}

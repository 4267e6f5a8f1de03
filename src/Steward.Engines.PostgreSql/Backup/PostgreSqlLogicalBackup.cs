using System.Globalization;
using Npgsql;
using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;

namespace Steward.Engines.PostgreSql.Backup;

/// <summary>
/// Logical backup of the application database with <c>pg_dump -Fc</c>, restored with <c>pg_restore</c> into a
/// fresh database in one transaction, which replaces the live one only once the restore has committed.
/// </summary>
public sealed class PostgreSqlLogicalBackup(PostgreSqlEngine engine) : IBackupMethod
{
    private const string Scratch = PostgreSqlEngine.Database + "_restore";
    private const string Previous = PostgreSqlEngine.Database + "_pre_restore";

    public string Service => "postgresql";

    public string Kind => "logical";

    public string Description => "the application database as pg_dump's custom format";

    public bool IsDefault => false;

    public IBackupSource CreateSource(EngineContext context) => new ProcessSource(new ProcessCommand
    {
        FileName = Path.Combine(engine.BinDir, "pg_dump"),

        // No compression of its own (-Z 0): the pipeline's filter chain compresses.
        Arguments = [.. Connection(context), "-d", PostgreSqlEngine.Database, "-F", "c", "-Z", "0"],
        Environment = Environment(),
        SecretFiles = PgPassFile.For(context),
        Name = "pg_dump",
    });

    public async Task RestoreAsync(EngineContext context, IRestoreHost host, CancellationToken cancellationToken)
    {
        await using (var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken))
        {
            await Exec(conn, $"DROP DATABASE IF EXISTS {Scratch} WITH (FORCE)", cancellationToken);
            await Exec(conn, $"CREATE DATABASE {Scratch} OWNER app_owner", cancellationToken);
        }

        try
        {
            // One transaction, acting as the owner role: if the stream is cut or fails verification,
            // pg_restore is killed before it commits and the scratch database holds nothing.
            await host.RunAsync(new ProcessSink(new ProcessCommand
            {
                FileName = Path.Combine(engine.BinDir, "pg_restore"),
                Arguments = [.. Connection(context), "-d", Scratch, "--no-owner", "--role=app_owner", "--exit-on-error", "--single-transaction"],
                Environment = Environment(),
                SecretFiles = PgPassFile.For(context),
                Name = "pg_restore",
            }), cancellationToken);
        }
        catch
        {
            await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", CancellationToken.None);
            await Exec(conn, $"DROP DATABASE IF EXISTS {Scratch} WITH (FORCE)", CancellationToken.None);
            throw;
        }

        await using (var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken))
        {
            await Exec(conn, $"DROP DATABASE IF EXISTS {Previous} WITH (FORCE)", cancellationToken);
            await Exec(conn, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{PostgreSqlEngine.Database}' AND pid <> pg_backend_pid()", cancellationToken);
            await Exec(conn, $"ALTER DATABASE {PostgreSqlEngine.Database} RENAME TO {Previous}", cancellationToken);
            await Exec(conn, $"ALTER DATABASE {Scratch} RENAME TO {PostgreSqlEngine.Database}", cancellationToken);
            await Exec(conn, $"REVOKE ALL ON DATABASE {PostgreSqlEngine.Database} FROM PUBLIC", cancellationToken);
            await Exec(conn, $"DROP DATABASE {Previous} WITH (FORCE)", cancellationToken);
        }
    }

    private static string[] Connection(EngineContext context) =>
        ["-h", context.Host, "-p", context.Port.ToString(CultureInfo.InvariantCulture), "-U", context.Instance.AdminUser];

    private static Dictionary<string, string?> Environment() => new() { ["PGCONNECT_TIMEOUT"] = "10" };

    private static async Task Exec(NpgsqlConnection conn, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}

using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;
using Steward.Backup.Unpack;

namespace Steward.Engines.PostgreSql.Backup;

/// <summary>
/// Physical backup of the whole cluster, restored by unpacking it beside the live data directory, and only when the
/// unpacked copy is complete and verified, swapping it in. Where the broker shares the instance's files and the plan
/// is not ha, the source reads the data directory itself between <c>pg_backup_start</c> and <c>pg_backup_stop</c>, as
/// pgBackRest does (<see cref="DataDirectorySource"/>, every page's checksum verified as it is read): no walsender
/// and no <c>pg_basebackup</c> client between the files and the pipeline, which on two cores took well over a core
/// (docs/benchmarks.md, "Backup"). Elsewhere (Kubernetes, an ha plan's members, or
/// <c>STEWARD_BACKUP_POSTGRESQL_SOURCE=pg_basebackup</c>) it is <c>pg_basebackup -Ft -X fetch</c>. Both make the same
/// archive: one tar of the cluster with <c>backup_label</c> and the WAL that makes it consistent.
/// </summary>
public sealed class PostgreSqlPhysicalBackup(PostgreSqlEngine engine) : IBackupMethod
{
    public string Service => "postgresql";

    public string Kind => "physical";

    public string Description => "the whole cluster as one tar (its data directory read directly, or pg_basebackup's), with the WAL to make it consistent";

    public bool IsDefault => true;

    public IBackupSource CreateSource(EngineContext context) => new RowCountingSource(
        engine.BackupReadsDataDirectory && context.Runtime.SharesFiles && !context.Plan.HighlyAvailable
            ? new DataDirectorySource(context, context.Instance.Id, parent: null, engine.Time, chained: false)
            : BaseBackup(context),
        context);

    private BaseBackupSource BaseBackup(EngineContext context) => new(
        new ProcessCommand
        {
            FileName = Path.Combine(engine.BinDir, "pg_basebackup"),
            Arguments = ["-h", context.Host, "-p", context.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", context.Instance.AdminUser,
                "-D", "-", "-F", "tar", "-X", "fetch", "-c", "fast", "-v", "-l", "steward " + context.Instance.Id],
            Environment = new Dictionary<string, string?> { ["PGCONNECT_TIMEOUT"] = "10" },
            SecretFiles = PgPassFile.For(context),
            Name = "pg_basebackup",
        },
        ServerVersion(context));

    public bool RestoresWholeDataDirectory => true;

    public Task RestoreAsync(EngineContext context, IRestoreHost host, CancellationToken cancellationToken) =>
        DataDirectoryRestore.RunAsync(
            context,
            host,
            async (staging, ct) =>
            {
                await BackupChain.UnpackAsync(host, staging, ct);

                // A backup taken from a standby (an ha instance's) carries its standby.signal: restored, it is a primary.
                await context.Runtime.DeleteFileAsync(Path.Combine(staging, "standby.signal"), ct);
            },
            cancellationToken);

    internal static string ServerVersion(EngineContext context)
    {
        var file = Path.Combine(context.Paths.DataDir, "PG_VERSION");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : "unknown";
    }
}

using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;
using Steward.Backup.Unpack;

namespace Steward.Engines.PostgreSql.Backup;

/// <summary>
/// Physical backup of the whole cluster with <c>pg_basebackup</c>, restored by unpacking it beside the live
/// data directory, and only when the unpacked copy is complete and verified, swapping it in.
/// </summary>
public sealed class PostgreSqlPhysicalBackup(PostgreSqlEngine engine) : IBackupMethod
{
    public string Service => "postgresql";

    public string Kind => "physical";

    public string Description => "the whole cluster as pg_basebackup's tar, with the WAL to make it consistent";

    public bool IsDefault => true;

    public IBackupSource CreateSource(EngineContext context) => new RowCountingSource(new BaseBackupSource(
        new ProcessCommand
        {
            FileName = Path.Combine(engine.BinDir, "pg_basebackup"),
            Arguments = ["-h", context.Host, "-p", context.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", context.Instance.AdminUser,
                "-D", "-", "-F", "tar", "-X", "fetch", "-c", "fast", "-v", "-l", "steward " + context.Instance.Id],
            Environment = new Dictionary<string, string?> { ["PGCONNECT_TIMEOUT"] = "10" },
            SecretFiles = PgPassFile.For(context),
            Name = "pg_basebackup",
        },
        ServerVersion(context)), context);

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

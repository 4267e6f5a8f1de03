using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;

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

    public IBackupSource CreateSource(EngineContext context) => new BaseBackupSource(
        new ProcessCommand
        {
            FileName = Path.Combine(engine.BinDir, "pg_basebackup"),
            Arguments = ["-h", context.Host, "-p", context.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", context.Instance.AdminUser,
                "-D", "-", "-F", "tar", "-X", "fetch", "-c", "fast", "-v", "-l", "steward " + context.Instance.Id],
            Environment = new Dictionary<string, string?> { ["PGPASSWORD"] = context.Instance.AdminPassword, ["PGCONNECT_TIMEOUT"] = "10" },
            Name = "pg_basebackup",
        },
        ServerVersion(context));

    public async Task RestoreAsync(EngineContext context, IRestoreHost host, CancellationToken cancellationToken)
    {
        var paths = context.Paths;
        var staging = Path.Combine(paths.Root, "restore-staging");
        var previous = Path.Combine(paths.Root, "data.pre-restore");

        // A restore interrupted after its swap put the last known good data aside: it goes back first.
        if (Directory.Exists(previous))
        {
            await host.StopServerAsync(cancellationToken);
            if (Directory.Exists(paths.DataDir))
            {
                Directory.Delete(paths.DataDir, recursive: true);
            }

            Directory.Move(previous, paths.DataDir);
            await host.StartServerAsync(cancellationToken);
        }

        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        // Unpack beside the live data while the server keeps serving; nothing live is touched until the
        // whole backup has arrived and its digests matched.
        await host.CreateDirectoryAsync(staging, cancellationToken);
        try
        {
            await host.RunAsync(new ProcessSink(host.AsServiceUser(new ProcessCommand { FileName = "tar", Arguments = ["-x", "-f", "-", "-C", staging], Name = "tar -x" })), cancellationToken);
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }

        await host.StopServerAsync(cancellationToken);
        Directory.Move(paths.DataDir, previous);
        Directory.Move(staging, paths.DataDir);
        try
        {
            await host.StartServerAsync(cancellationToken);
        }
        catch
        {
            await host.StopServerAsync(CancellationToken.None);
            Directory.Delete(paths.DataDir, recursive: true);
            Directory.Move(previous, paths.DataDir);
            await host.StartServerAsync(CancellationToken.None);
            throw;
        }

        Directory.Delete(previous, recursive: true);
    }

    internal static string ServerVersion(EngineContext context)
    {
        var file = Path.Combine(context.Paths.DataDir, "PG_VERSION");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : "unknown";
    }
}

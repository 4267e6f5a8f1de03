using System.Globalization;
using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;
using Steward.Catalog;

namespace Steward.Engines.Redis.Backup;

/// <summary>
/// A consistent point-in-time snapshot through Redis's own replication stream (<c>redis-cli --rdb -</c>: the
/// server forks and sends an RDB, as it does to a new replica). Restored by writing the RDB beside the live
/// data and swapping it in once it has arrived whole and verified.
/// </summary>
public sealed class RedisRdbBackup(RedisEngineOptions options) : IBackupMethod
{
    private const string AofDir = "appendonlydir";
    private const string AofBase = "appendonly.aof.1.base.rdb";

    public string Service => "redis";

    public string Kind => "rdb";

    public string Description => "an RDB snapshot taken through the replication stream";

    public bool IsDefault => true;

    public IBackupSource CreateSource(EngineContext context) => new KeyCountingSource(new ProcessSource(new ProcessCommand
    {
        FileName = options.CliPath,
        Arguments = ["-h", context.Host, "-p", context.Port.ToString(CultureInfo.InvariantCulture), "--user", context.Instance.AdminUser, "--askpass", "--rdb", "-"],

        // --askpass reads the password from stdin: not an argument, not the environment.
        StandardInput = context.Instance.AdminPassword,
        Name = "redis-cli --rdb",
    }), context);

    public bool RestoresWholeDataDirectory => true;

    public Task RestoreAsync(EngineContext context, IRestoreHost host, CancellationToken cancellationToken) =>
        DataDirectoryRestore.RunAsync(context, host, (staging, ct) => UnpackAsync(context, host, staging, ct), cancellationToken);

    private static async Task UnpackAsync(EngineContext context, IRestoreHost host, string staging, CancellationToken cancellationToken)
    {
        // With the append-only file on, Redis loads the AOF, not dump.rdb: the snapshot also becomes the base
        // of a multi-part AOF (Redis 7), so either way the server starts from the restored data.
        var appendOnly = new ParameterValues(context.Instance.ParametersJson).Boolean("appendonly") ?? false;
        var targets = new List<string> { Path.Combine(staging, "dump.rdb") };
        if (appendOnly)
        {
            await host.CreateDirectoryAsync(Path.Combine(staging, AofDir), cancellationToken);
            targets.Add(Path.Combine(staging, AofDir, AofBase));
        }

        // Nothing may reach the sink's stdout (it is read as text): the copies go to files only.
        string[] write = appendOnly ? ["-c", "tee \"$1\" > \"$2\"", "sh", .. targets] : ["-c", "cat > \"$1\"", "sh", .. targets];
        await host.RunAsync(host.ToolSink("write dump.rdb", "/bin/sh", write), cancellationToken);
        if (appendOnly)
        {
            await host.WriteFileAsync(Path.Combine(staging, AofDir, "appendonly.aof.manifest"), $"file {AofBase} seq 1 type b\n", cancellationToken);
        }
    }
}

using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Unpack;
using Steward.Backups;
using Steward.Engines;

namespace Steward.Server.Backups;

/// <summary>What a restore operation lends the instance's backup method.</summary>
internal sealed class RestoreHost(
    BackupRecord backup,
    EngineContext context,
    IDataServiceEngine engine,
    BackupService backups,
    IProgress<PipelineProgress> report,
    Func<CancellationToken, Task> startAndWait,
    TimeSpan stopGrace) : IRestoreHost
{
    public Task<PipelineResult> RunAsync(IRestoreSink sink, CancellationToken cancellationToken) =>
        backups.RestoreAsync(backup, sink, report, cancellationToken);

    public IReadOnlyDictionary<string, string> Properties { get; } = BackupService.ManifestProperties(backup);

    /// <summary>The backup being restored.</summary>
    public BackupRecord Backup => backup;

    /// <summary>The WAL segment a physical backup's recovery starts in (its manifest's start LSN and timeline); null for other backups.</summary>
    public Steward.Wal.WalName? RecoveryStart =>
        Properties.TryGetValue("start_lsn", out var lsn) && Steward.Wal.Lsn.TryParse(lsn, out var value)
        && Properties.TryGetValue("timeline", out var tli) && int.TryParse(tli, System.Globalization.CultureInfo.InvariantCulture, out var timeline)
            ? Steward.Wal.WalName.SegmentHolding(timeline, value)
            : null;

    public Task<PipelineResult> RunAsync(string backupId, IRestoreSink sink, CancellationToken cancellationToken) =>
        backups.RestoreLinkAsync(backup, backupId, sink, report, cancellationToken);

    public Task StopServerAsync(CancellationToken cancellationToken) =>
        context.Runtime.StopAsync(context.Paths, engine.Launch(context).StopSignal, stopGrace, cancellationToken);

    public Task StartServerAsync(CancellationToken cancellationToken) => startAndWait(cancellationToken);

    public Task CreateDirectoryAsync(string path, CancellationToken cancellationToken) =>
        context.Runtime.CreatePrivateDirectoryAsync(path, cancellationToken);

    public Task WriteFileAsync(string path, string content, CancellationToken cancellationToken) =>
        context.Runtime.WriteFileAsync(path, content, cancellationToken);

    /// <summary>
    /// Where the broker shares the instance's files, the archive is unpacked in-process (two copies and a process
    /// fewer than a <c>tar -x</c> child); elsewhere (a pod) by <c>tar</c> where the files are.
    /// </summary>
    public IRestoreSink UnpackSink(string directory, Func<string, bool>? include = null)
    {
        if (context.Runtime.SharesFiles)
        {
            return new TarUnpackSink(directory, include: include);
        }

        return include is null
            ? new InstanceToolSink(context.Runtime, context.Paths, "unpack", "tar", ["-x", "-f", "-", "-C", directory])
            : throw new NotSupportedException($"restoring an incremental backup chain into {directory} is not supported where the broker does not share the instance's files (Kubernetes; docs/kubernetes.md)");
    }

    public IRestoreSink ToolSink(string name, string fileName, IReadOnlyList<string> arguments) =>
        new InstanceToolSink(context.Runtime, context.Paths, name, fileName, arguments);

    public string? FirstMissing(IReadOnlyList<string> paths) => context.Runtime.FirstMissing(paths);
}

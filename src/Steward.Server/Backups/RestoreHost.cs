using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;
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
            ? Steward.Wal.WalName.Parse(Steward.Wal.WalName.SegmentName(timeline, value / Steward.Wal.WalName.SegmentBytes))
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

    public ProcessCommand AsServiceUser(ProcessCommand command)
    {
        // The command's environment is explicit already (ProcessCommand inherits nothing of the broker's). Its secret
        // files are private to the broker's user, so a tool running as the service user could not read them.
        if (command.SecretFiles.Count > 0)
        {
            throw new InvalidOperationException($"Stage '{command.Name ?? command.FileName}' has secret files, which only the broker's user can read; it cannot run as the service user.");
        }

        var (file, arguments) = context.Runtime.AsServiceUser(command.FileName, command.Arguments);
        return command with { FileName = file, Arguments = arguments };
    }
}

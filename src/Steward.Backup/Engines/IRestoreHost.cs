using Steward.Backup.Pipeline;
using Steward.Backup.Sources;

namespace Steward.Backup.Engines;

/// <summary>What the framework lends a <see cref="IBackupMethod"/> during a restore.</summary>
public interface IRestoreHost
{
    /// <summary>
    /// Streams the chosen backup through its inverse filter chain, verifying it, into <paramref name="sink"/>.
    /// Throws <see cref="RestoreFailedException"/> naming the failed stage; the sink has then been stopped
    /// before it could commit.
    /// </summary>
    Task<PipelineResult> RunAsync(IRestoreSink sink, CancellationToken cancellationToken);

    /// <summary>The engine facts of the chosen backup's manifest (for an incremental backup: its files and chain).</summary>
    IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>
    /// Streams an earlier backup of the chosen backup's chain (an incremental backup's parent), verified like the
    /// chosen one, into <paramref name="sink"/>. Throws <see cref="RestoreFailedException"/> when it is missing,
    /// not succeeded, or fails verification.
    /// </summary>
    Task<PipelineResult> RunAsync(string backupId, IRestoreSink sink, CancellationToken cancellationToken);

    /// <summary>Stops the instance's server cleanly.</summary>
    Task StopServerAsync(CancellationToken cancellationToken);

    /// <summary>Starts the instance's server and waits until it answers its health check; throws when it does not.</summary>
    Task StartServerAsync(CancellationToken cancellationToken);

    /// <summary>Creates an empty directory owned by (and private to) the user the server runs as.</summary>
    Task CreateDirectoryAsync(string path, CancellationToken cancellationToken);

    /// <summary>Writes a small file owned by (and private to) the user the server runs as.</summary>
    Task WriteFileAsync(string path, string content, CancellationToken cancellationToken);

    /// <summary>The same command, run as the user the server runs as (so the files it writes belong to the server).</summary>
    ProcessCommand AsServiceUser(ProcessCommand command);
}

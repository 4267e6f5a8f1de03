using Steward.Backup.Pipeline;
using Steward.Backup.Unpack;

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

    /// <summary>
    /// A sink that unpacks a tar stream into the empty <paramref name="directory"/> of the instance: in the broker where
    /// it shares the instance's files (<see cref="TarUnpackSink"/>), by <c>tar -x</c> as the service user in the
    /// instance's place where it does not (its pod). With <paramref name="include"/>, only the files it accepts.
    /// </summary>
    IRestoreSink UnpackSink(string directory, Func<string, bool>? include = null);

    /// <summary>
    /// A sink that streams into <paramref name="fileName"/> run as the user the server runs as, in the instance's place
    /// (so the files it writes belong to the server, wherever the instance runs); nothing may reach its output but
    /// its complaints. The tool never sees a clean end of a failed input.
    /// </summary>
    IRestoreSink ToolSink(string name, string fileName, IReadOnlyList<string> arguments);

    /// <summary>The first of <paramref name="paths"/> of the instance that does not exist; null when all do (or the runtime cannot tell).</summary>
    string? FirstMissing(IReadOnlyList<string> paths);
}

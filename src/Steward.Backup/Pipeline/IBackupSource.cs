using System.IO.Pipelines;

namespace Steward.Backup.Pipeline;

/// <summary>
/// The first stage of a backup workflow: produces the plaintext backup stream (a dump, a base backup, a snapshot).
/// </summary>
public interface IBackupSource
{
    /// <summary>Stage name used in results, logs and the manifest (for example <c>pg_basebackup</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Writes the complete backup into <paramref name="output"/> and returns once the data is known to be complete
    /// and consistent. Throws when the data is incomplete (for example the tool exited non-zero). The runner, not
    /// the source, completes <paramref name="output"/>.
    /// </summary>
    ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken);
}

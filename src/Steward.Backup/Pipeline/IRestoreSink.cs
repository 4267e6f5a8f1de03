using System.IO.Pipelines;

namespace Steward.Backup.Pipeline;

/// <summary>
/// The last stage of a restore: consumes the plaintext (for example <c>pg_restore</c> or <c>tar -x</c>).
/// </summary>
public interface IRestoreSink
{
    /// <summary>Stage name used in results and logs.</summary>
    string Name { get; }

    /// <summary>
    /// Consumes <paramref name="input"/> until it completes. When the input completes with an exception (an upstream
    /// stage or the integrity check failed) the sink must not commit what it received and should rethrow.
    /// </summary>
    ValueTask ReadFromAsync(PipeReader input, CancellationToken cancellationToken);
}

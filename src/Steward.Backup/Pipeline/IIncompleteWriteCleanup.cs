namespace Steward.Backup.Pipeline;

/// <summary>
/// Optional ability of a storage: removing what an interrupted write left behind (a temporary file, an
/// unfinished multipart upload) when the process that wrote it died before it could abort.
/// </summary>
public interface IIncompleteWriteCleanup
{
    /// <summary>Removes every incomplete write of <paramref name="key"/>; the complete object, if any, is kept.</summary>
    ValueTask RemoveIncompleteWritesAsync(string key, CancellationToken cancellationToken);
}

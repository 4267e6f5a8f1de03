using System.IO.Pipelines;

namespace Steward.Backup.Pipeline;

/// <summary>
/// A reversible transformation between two stages (compression, encryption). Backups run <see cref="EncodeAsync"/>,
/// restores run <see cref="DecodeAsync"/> on a filter rebuilt from the manifest by a <see cref="Filters.FilterRegistry"/>.
/// </summary>
public interface IBackupFilter
{
    /// <summary>Registry name recorded in the manifest (for example <c>zstd</c>, <c>age</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Parameters recorded in the manifest so the restore can rebuild this filter. Must never contain key material:
    /// public recipients are fine, identities and passwords are not.
    /// </summary>
    IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>
    /// True when the encoded form carries a checksum of everything this filter read, which <see cref="DecodeAsync"/>
    /// verifies (zstd's frame content checksum): as the first filter, it checks the plaintext end to end.
    /// </summary>
    bool ChecksumsItsInput => false;

    /// <summary>Transforms everything read from <paramref name="input"/> into <paramref name="output"/> (backup direction).
    /// The runner completes both ends.</summary>
    ValueTask EncodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken);

    /// <summary>The inverse of <see cref="EncodeAsync"/> (restore direction). Throws
    /// <see cref="BackupIntegrityException"/> when the input is corrupt or truncated.</summary>
    ValueTask DecodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken);
}

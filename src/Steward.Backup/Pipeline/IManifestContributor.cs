namespace Steward.Backup.Pipeline;

/// <summary>
/// Optional ability of a source: properties it learned while producing the backup (for example PostgreSQL start/stop
/// LSN and timeline) that are copied into <see cref="Manifest.BackupManifest.Properties"/> after the source finished.
/// </summary>
public interface IManifestContributor
{
    /// <summary>Properties to record; read once, after the source completed successfully. Never key material.</summary>
    IReadOnlyDictionary<string, string> ManifestProperties { get; }
}

using Steward.Backup.Pipeline;
using Steward.Engines;
using Steward.Runtime;

namespace Steward.Backup.Engines;

/// <summary>
/// One way to back up and restore instances of one data service (PostgreSQL physical, PostgreSQL logical,
/// Redis RDB). The engine supplies the source and the engine-specific steps around a restore; the framework
/// supplies the filter chain, the storage and the integrity checks. Register with <c>AddBackupMethod</c>.
/// </summary>
public interface IBackupMethod
{
    /// <summary>The catalog name of the service (postgresql, redis).</summary>
    string Service { get; }

    /// <summary>The method's name within its service (physical, logical, rdb).</summary>
    string Kind { get; }

    /// <summary>One line for users: what the backup holds and how it is taken.</summary>
    string Description { get; }

    /// <summary>The method used when a backup request names none.</summary>
    bool IsDefault { get; }

    /// <summary>
    /// True when the backup is a whole data directory that <see cref="RestoreAsync"/> puts in place by itself, so an
    /// instance rebuilt from scratch needs only its directories and configuration first; false when the restore
    /// loads data into a running, initialised server (a logical dump).
    /// </summary>
    bool RestoresWholeDataDirectory => false;

    /// <summary>
    /// True when the source reads the instance's files itself, beside the broker, rather than through the server's
    /// protocol: it works only where the broker shares the instance's files (<see cref="IInstanceRuntime.SharesFiles"/>;
    /// not on Kubernetes).
    /// </summary>
    bool ReadsInstanceFiles => false;

    /// <summary>The source that streams a consistent backup of the instance.</summary>
    IBackupSource CreateSource(EngineContext context);

    /// <summary>
    /// Replaces the instance's data with the backup's. Must leave the instance's current data in place
    /// whenever the restore pipeline fails (integrity, truncation, a killed tool), and the server running.
    /// </summary>
    Task RestoreAsync(EngineContext context, IRestoreHost host, CancellationToken cancellationToken);
}

namespace Steward.Engines;

/// <summary>
/// An engine whose data directory can be initialised before the instance exists, so a provision takes one that is
/// ready (the warm pool) instead of waiting for it. Only the data directory is prepared: no server runs for it.
/// </summary>
public interface IPreparedDataDirectories
{
    /// <summary>
    /// Identifies what a prepared directory was made with (server version, initialisation arguments, the objects
    /// created in it). A directory prepared under another fingerprint is discarded, never handed out.
    /// </summary>
    Task<string> FingerprintAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Initialises <c>context.Paths.DataDir</c> exactly as <see cref="IDataServiceEngine.InitializeAsync"/> does for
    /// an instance with <c>context.Instance</c>'s administrator, running its tools at <paramref name="niceness"/>.
    /// </summary>
    Task PrepareAsync(EngineContext context, int niceness, CancellationToken cancellationToken);
}

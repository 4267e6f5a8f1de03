namespace Steward.Engines;

/// <summary>
/// An engine that can write what a running server holds to a directory other than its data directory, while
/// the server still answers. The supervisor uses it before fencing a server whose data directory is gone, so
/// the only copy of the data is not killed with the process.
/// </summary>
public interface IDataRescue
{
    /// <summary>
    /// Makes the server save its data into <paramref name="directory"/> (writable by the server) and says what
    /// was saved where; throws with the server's reason when it cannot.
    /// </summary>
    Task<string> RescueAsync(EngineContext context, string directory, CancellationToken cancellationToken);
}

namespace Steward.Engines;

/// <summary>
/// An engine whose data files carry per-page checksums that can be turned on for an existing data directory while
/// its server is stopped (PostgreSQL's <c>pg_checksums --enable</c>). Partial repair needs them to tell a damaged
/// page from a good one; instances Steward creates have them from the start, older ones get them at a rebuild.
/// </summary>
public interface IDataChecksums
{
    /// <summary>Whether the data directory's pages carry checksums (read from its control file; the server may run).</summary>
    Task<bool> ChecksumsEnabledAsync(EngineContext context, CancellationToken cancellationToken);

    /// <summary>Turns checksums on in the stopped, cleanly shut down data directory: every page is read and rewritten once.</summary>
    Task EnableChecksumsAsync(EngineContext context, CancellationToken cancellationToken);
}

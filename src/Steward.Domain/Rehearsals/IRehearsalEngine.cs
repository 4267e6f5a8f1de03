using Steward.Engines;

namespace Steward.Rehearsals;

/// <summary>
/// What a data service adds to a restore rehearsal: a sandbox the instance's credentials do not open, and the
/// service's own acceptance checks. Register one per service beside its engine.
/// </summary>
public interface IRehearsalEngine
{
    /// <summary>The catalog name of the service (postgresql, redis).</summary>
    string Service { get; }

    /// <summary>
    /// Adjusts the sandbox's configuration (written by the engine for <paramref name="sandbox"/>) so that it archives
    /// nothing, admits only the sandbox's own users, and reads what it needs of <paramref name="live"/> (its WAL) only.
    /// </summary>
    Task ConfigureSandboxAsync(EngineContext sandbox, EngineContext live, CancellationToken cancellationToken);

    /// <summary>Checks of the restored files before the server starts on them.</summary>
    Task<IReadOnlyList<RehearsalCheck>> CheckFilesAsync(EngineContext sandbox, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the running sandbox server credentials of its own (<paramref name="sandbox"/>'s), replacing the
    /// instance's (<paramref name="restoredAdminPassword"/>) wherever the backup brought them.
    /// </summary>
    Task SecureAsync(EngineContext sandbox, string restoredAdminPassword, CancellationToken cancellationToken);

    /// <summary>Checks against the running sandbox: integrity, counts against the backup's manifest, the developer's own check.</summary>
    Task<IReadOnlyList<RehearsalCheck>> CheckRunningAsync(EngineContext sandbox, IReadOnlyDictionary<string, string> backupProperties, string? checkFile, CancellationToken cancellationToken);

    /// <summary>Checks of the sandbox's files once its server has stopped cleanly (offline checksum verification).</summary>
    Task<IReadOnlyList<RehearsalCheck>> CheckStoppedAsync(EngineContext sandbox, CancellationToken cancellationToken);

    /// <summary>Validates a developer's check file before anything starts; returns the problem, or null when it is well formed.</summary>
    string? ValidateCheckFile(string checkFile);
}

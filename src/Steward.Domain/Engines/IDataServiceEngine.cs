using Steward.Catalog;
using Steward.Instances;
using Steward.Runtime;
using Steward.Supervision;

namespace Steward.Engines;

/// <summary>
/// The adapter for one data service (PostgreSQL, Redis). The broker drives instances only through this
/// contract; a new data service is a new engine and one registration. Every method that changes state is
/// idempotent, because a resumed operation may call it again.
/// </summary>
public interface IDataServiceEngine
{
    /// <summary>The catalog entry: service, plans, parameter schemas.</summary>
    ServiceOffering Offering { get; }

    /// <summary>
    /// Why this engine cannot run servers on this machine (its binaries are missing), or null when it can. An
    /// unavailable engine's services leave the catalog; the broker and the other engines keep working.
    /// </summary>
    string? Unavailable { get; }

    /// <summary>Creates the data directory contents (initdb and the like) in an empty data directory.</summary>
    Task InitializeAsync(EngineContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Creates what the server needs besides its data directory, for an instance whose data directory a restore
    /// puts in place whole (a rebuild). By default the whole <see cref="InitializeAsync"/>; an engine whose
    /// initialization only creates the data directory (initdb) does nothing here, so a rebuild does not pay for it.
    /// </summary>
    Task InitializeForRestoreAsync(EngineContext context, CancellationToken cancellationToken) => InitializeAsync(context, cancellationToken);

    /// <summary>
    /// True when a whole-data-directory backup carries the administrator's password (PostgreSQL's roles live in
    /// the data); false when the configuration does (Redis's ACL file). A clone's restored server then first
    /// accepts its source's administrator password, until <see cref="AdoptRestoredAdminAsync"/>.
    /// </summary>
    bool AdminPasswordInData => false;

    /// <summary>
    /// Makes a server restored from another instance's backup accept <paramref name="context"/>'s administrator
    /// password instead of <paramref name="restoredAdminPassword"/>, the source's. Idempotent: a server that accepts
    /// the new one already is left as it is.
    /// </summary>
    Task AdoptRestoredAdminAsync(EngineContext context, string restoredAdminPassword, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes the server's configuration for the instance's plan and parameters.</summary>
    Task ConfigureAsync(EngineContext context, CancellationToken cancellationToken);

    /// <summary>How to run the server in the foreground.</summary>
    ProcessLaunch Launch(EngineContext context);

    /// <summary>One protocol-level check (connect and query); throws with the reason when the server does not answer correctly.</summary>
    Task ProbeAsync(EngineContext context, CancellationToken cancellationToken);

    /// <summary>
    /// The supervisor's recurring check: what <see cref="ProbeAsync"/> proves, but an engine may keep what it connects
    /// with open from one check of an instance to the next, as long as it proves again on a new connection at an
    /// interval it documents. By default <see cref="ProbeAsync"/>.
    /// </summary>
    Task CheckAsync(EngineContext context, CancellationToken cancellationToken) => ProbeAsync(context, cancellationToken);

    /// <summary>Creates what applications use (database, owner role) once the server is up.</summary>
    Task BootstrapAsync(EngineContext context, CancellationToken cancellationToken);

    /// <summary>Creates (or re-creates with the same password) the binding's user.</summary>
    Task CreateCredentialsAsync(EngineContext context, ServiceBinding binding, CancellationToken cancellationToken);

    /// <summary>Removes the binding's user and ends its sessions, so the credentials stop working.</summary>
    Task RevokeCredentialsAsync(EngineContext context, ServiceBinding binding, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the server's users match exactly the given bindings (plus Steward's own): after a restore brings
    /// back the users of the backup's time, bindings made since are re-created and those removed since are
    /// removed again, so revoked credentials never come back.
    /// </summary>
    Task ReconcileCredentialsAsync(EngineContext context, IReadOnlyList<ServiceBinding> bindings, CancellationToken cancellationToken);

    /// <summary>The credentials object returned to the platform for a binding.</summary>
    IReadOnlyDictionary<string, object> Credentials(EngineContext context, ServiceBinding binding);

    /// <summary>
    /// What the server's own log (its lines since the last start) and the state of the data directory say
    /// about a failure; null when they say nothing this engine recognizes.
    /// </summary>
    Diagnosis? Diagnose(EngineContext context, IReadOnlyList<string> logSinceStart);
}

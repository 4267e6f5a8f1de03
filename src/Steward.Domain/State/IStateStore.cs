using Steward.Backups;
using Steward.Instances;
using Steward.Operations;
using Steward.Supervision;

namespace Steward.State;

/// <summary>
/// Steward's own durable state: instances, bindings and operations. SQLite implements it by default, PostgreSQL for
/// brokers that share their state (docs/state-store.md). Writes are durable when the task completes.
/// </summary>
public interface IStateStore
{
    /// <summary>Creates or migrates the schema.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The instance with this platform id, including a deleted tombstone; null if never seen.</summary>
    Task<ServiceInstance?> GetInstanceAsync(string id, CancellationToken cancellationToken);

    /// <summary>Every instance that is not deleted.</summary>
    Task<IReadOnlyList<ServiceInstance>> ListInstancesAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the instance row.</summary>
    Task SaveInstanceAsync(ServiceInstance instance, CancellationToken cancellationToken);

    /// <summary>Removes the instance row, its bindings and its operations.</summary>
    Task PurgeInstanceAsync(string id, CancellationToken cancellationToken);

    /// <summary>Ports held by instances that are not deleted.</summary>
    Task<IReadOnlySet<int>> AllocatedPortsAsync(CancellationToken cancellationToken);

    Task<ServiceBinding?> GetBindingAsync(string instanceId, string bindingId, CancellationToken cancellationToken);

    /// <summary>A binding with this id on any instance (binding ids are unique across instances).</summary>
    Task<ServiceBinding?> FindBindingAsync(string bindingId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ServiceBinding>> ListBindingsAsync(string instanceId, CancellationToken cancellationToken);

    Task SaveBindingAsync(ServiceBinding binding, CancellationToken cancellationToken);

    Task DeleteBindingAsync(string instanceId, string bindingId, CancellationToken cancellationToken);

    Task<Operation?> GetOperationAsync(string operationId, CancellationToken cancellationToken);

    Task SaveOperationAsync(Operation operation, CancellationToken cancellationToken);

    /// <summary>The newest instance-level operation (provision, update, deprovision) of an instance.</summary>
    Task<Operation?> LatestInstanceOperationAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>The newest operation on a binding.</summary>
    Task<Operation?> LatestBindingOperationAsync(string instanceId, string bindingId, CancellationToken cancellationToken);

    /// <summary>Every operation still in progress, oldest first: what a restarted broker must resume.</summary>
    Task<IReadOnlyList<Operation>> ListInProgressOperationsAsync(CancellationToken cancellationToken);

    /// <summary>The binding whose instance API token hashes to <paramref name="tokenHash"/>, or null.</summary>
    Task<ServiceBinding?> FindBindingByTokenHashAsync(string tokenHash, CancellationToken cancellationToken);

    Task SaveIncidentAsync(Incident incident, CancellationToken cancellationToken);

    Task<Incident?> GetIncidentAsync(string incidentId, CancellationToken cancellationToken);

    /// <summary>Incidents, newest first, of one instance or of all.</summary>
    Task<IReadOnlyList<Incident>> ListIncidentsAsync(string? instanceId, CancellationToken cancellationToken);

    Task SaveBackupAsync(BackupRecord backup, CancellationToken cancellationToken);

    Task<BackupRecord?> GetBackupAsync(string backupId, CancellationToken cancellationToken);

    /// <summary>Backups, newest first, of one instance or of all.</summary>
    Task<IReadOnlyList<BackupRecord>> ListBackupsAsync(string? instanceId, CancellationToken cancellationToken);

    Task DeleteBackupAsync(string backupId, CancellationToken cancellationToken);
}

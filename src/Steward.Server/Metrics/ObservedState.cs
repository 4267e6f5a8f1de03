using System.Collections.Concurrent;
using Steward.Backups;
using Steward.Instances;
using Steward.Operations;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Metrics;

/// <summary>
/// What metrics and the dashboard summarise, kept in memory: loaded from the state store once at start,
/// then kept current by the <see cref="Events.StateObserver"/> from every write. A scrape reads only this,
/// never the database, so its cost does not grow with the history kept in the store.
/// </summary>
internal sealed class ObservedState
{
    public ConcurrentDictionary<string, InstanceView> Instances { get; } = new();

    public ConcurrentDictionary<string, BackupView> Backups { get; } = new();

    /// <summary>Incidents not resolved (open or quarantined).</summary>
    public ConcurrentDictionary<string, IncidentView> OpenIncidents { get; } = new();

    /// <summary>Restarts recorded so far per incident: a new restart is the difference.</summary>
    public ConcurrentDictionary<string, int> IncidentRestarts { get; } = new();

    /// <summary>The last recorded state of each operation, so an end is counted once.</summary>
    public ConcurrentDictionary<string, (string InstanceId, OperationState State)> Operations { get; } = new();

    public async Task LoadAsync(IStateStore store, CancellationToken cancellationToken)
    {
        foreach (var instance in await store.ListInstancesAsync(cancellationToken))
        {
            Apply(instance);
        }

        foreach (var backup in await store.ListBackupsAsync(null, cancellationToken))
        {
            Apply(backup);
        }

        foreach (var incident in await store.ListIncidentsAsync(null, cancellationToken))
        {
            Apply(incident);
        }

        foreach (var op in await store.ListInProgressOperationsAsync(cancellationToken))
        {
            Operations[op.Id] = (op.InstanceId, op.State);
        }
    }

    public InstanceView? Apply(ServiceInstance instance)
    {
        var previous = Instances.TryGetValue(instance.Id, out var p) ? p : null;
        if (instance.State == InstanceState.Deleted)
        {
            Forget(instance.Id);
        }
        else
        {
            Instances[instance.Id] = new InstanceView(instance.Id, instance.ServiceId, instance.PlanId, instance.State, instance.CreatedAt);
        }

        return previous;
    }

    public BackupView? Apply(BackupRecord backup)
    {
        var previous = Backups.TryGetValue(backup.Id, out var p) ? p : null;
        Backups[backup.Id] = new BackupView(backup.Id, backup.InstanceId, backup.Service, backup.Kind, backup.State, backup.StartedAt, backup.CompletedAt, backup.PlaintextBytes, backup.StoredBytes, backup.FailedStage);
        return previous;
    }

    /// <summary>Records the incident; returns how many restarts it gained since last seen.</summary>
    public int Apply(Incident incident)
    {
        if (incident.State == IncidentState.Resolved)
        {
            OpenIncidents.TryRemove(incident.Id, out _);
        }
        else
        {
            OpenIncidents[incident.Id] = new IncidentView(incident.Id, incident.InstanceId, incident.Class, incident.State);
        }

        var before = IncidentRestarts.TryGetValue(incident.Id, out var r) ? r : 0;
        IncidentRestarts[incident.Id] = incident.Restarts;
        return Math.Max(0, incident.Restarts - before);
    }

    public void Forget(string instanceId)
    {
        Instances.TryRemove(instanceId, out _);
        foreach (var (id, b) in Backups)
        {
            if (b.InstanceId == instanceId)
            {
                Backups.TryRemove(id, out _);
            }
        }

        foreach (var (id, i) in OpenIncidents)
        {
            if (i.InstanceId == instanceId)
            {
                OpenIncidents.TryRemove(id, out _);
                IncidentRestarts.TryRemove(id, out _);
            }
        }

        foreach (var (id, o) in Operations)
        {
            if (o.InstanceId == instanceId)
            {
                Operations.TryRemove(id, out _);
            }
        }
    }

    internal sealed record InstanceView(string Id, string ServiceId, string PlanId, InstanceState State, DateTimeOffset CreatedAt);

    internal sealed record BackupView(string Id, string InstanceId, string Service, string Kind, BackupState State, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt, long PlaintextBytes, long StoredBytes, string? FailedStage);

    internal sealed record IncidentView(string Id, string InstanceId, FailureClass Class, IncidentState State);
}

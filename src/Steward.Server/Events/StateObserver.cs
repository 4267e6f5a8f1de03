using System.Collections.Concurrent;
using Steward.Backups;
using Steward.Instances;
using Steward.Operations;
using Steward.Server.Backups;
using Steward.Server.Logging;
using Steward.Server.Metrics;
using Steward.Server.Supervision;
using Steward.Supervision;

namespace Steward.Server.Events;

/// <summary>
/// Turns what Steward records into events and metrics: each completed state-store write, each health
/// change and each progress report of a running backup or restore. Events carry only what a user of the
/// instance may see: never a password, token or parameter value.
/// </summary>
internal sealed class StateObserver
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private readonly ObservedState _state;
    private readonly StewardMetrics _metrics;
    private readonly EventHub _hub;
    private readonly TimeProvider _time;
    private readonly ILogger<StateObserver> _logger;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastProgress = new();

    public StateObserver(ObservedState state, StewardMetrics metrics, EventHub hub, HealthRegistry health, ProgressBoard progress, TimeProvider time, ILogger<StateObserver> logger)
    {
        _state = state;
        _metrics = metrics;
        _hub = hub;
        _time = time;
        _logger = logger;
        health.Changed += HealthChanged;
        progress.Reported += ProgressReported;
    }

    /// <summary>The writes that change what users see; reads and binding writes (credentials) are not observed.</summary>
    public static bool Observes(string method) => method is "SaveInstanceAsync" or "PurgeInstanceAsync" or "SaveOperationAsync"
        or "SaveIncidentAsync" or "SaveBackupAsync" or "DeleteBackupAsync";

    public void Written(string method, object?[] args)
    {
        try
        {
            switch (args.FirstOrDefault())
            {
                case ServiceInstance instance:
                    InstanceSaved(instance);
                    break;
                case Operation op:
                    OperationSaved(op);
                    break;
                case Incident incident:
                    IncidentSaved(incident);
                    break;
                case BackupRecord backup:
                    BackupSaved(backup);
                    break;
                case string id when method == "DeleteBackupAsync" && _state.Backups.TryRemove(id, out var removed):
                    _hub.Publish(removed.InstanceId, "backup", new { id, state = "deleted" });
                    break;
                case string id when method == "PurgeInstanceAsync":
                    _state.Forget(id);
                    _metrics.Forget(id);
                    _hub.Forget(id);
                    break;
            }
        }
        catch (Exception ex)
        {
            Log.ObserverFailed(_logger, method, ex);
        }
    }

    private void InstanceSaved(ServiceInstance instance)
    {
        var previous = _state.Apply(instance);
        if (instance.State == InstanceState.Deleted)
        {
            _metrics.Forget(instance.Id);
        }

        if (previous?.State != instance.State)
        {
            _hub.Publish(instance.Id, "instance", new { state = instance.State.ToString().ToLowerInvariant() });
        }
    }

    private void OperationSaved(Operation op)
    {
        var previous = _state.Operations.TryGetValue(op.Id, out var p) ? p.State : (OperationState?)null;
        _state.Operations[op.Id] = (op.InstanceId, op.State);
        if (op.State != OperationState.InProgress && previous != op.State)
        {
            _metrics.OperationEnded(op);
        }

        _hub.Publish(op.InstanceId, "operation", new
        {
            id = op.Id,
            kind = op.Kind.ToString().ToLowerInvariant(),
            state = op.State.OsbName(),
            description = op.Description,
            step = op.Step,
            binding_id = op.BindingId,
        });
    }

    private void IncidentSaved(Incident incident)
    {
        var restarts = _state.Apply(incident);
        if (restarts > 0)
        {
            _metrics.Restarted(incident.InstanceId, restarts);
        }

        var last = incident.Timeline.LastOrDefault();
        _hub.Publish(incident.InstanceId, "incident", new
        {
            id = incident.Id,
            @class = incident.Class.Name(),
            state = incident.State.ToString().ToLowerInvariant(),
            summary = incident.Summary,
            restarts = incident.Restarts,
            @event = last?.Kind,
            detail = last?.Detail,
        });
    }

    private void BackupSaved(BackupRecord backup)
    {
        var previous = _state.Apply(backup);
        // A backup marked deleting (retention, delete) did not just finish: it is not a run.
        if (backup.State is BackupState.Succeeded or BackupState.Failed && previous?.State != backup.State)
        {
            _metrics.BackupFinished(backup);
            _lastProgress.TryRemove(backup.Id, out _);
        }

        _hub.Publish(backup.InstanceId, "backup", new
        {
            id = backup.Id,
            kind = backup.Kind,
            state = backup.State switch { BackupState.InProgress => "in progress", BackupState.Succeeded => "succeeded", _ => "failed" },
            plaintext_bytes = backup.PlaintextBytes,
            stored_bytes = backup.StoredBytes,
            duration_seconds = backup.CompletedAt is { } done ? Math.Round((done - backup.StartedAt).TotalSeconds, 2) : (double?)null,
            failed_stage = backup.FailedStage,
            message = backup.Message,
        });
    }

    private void HealthChanged(InstanceHealth? previous, InstanceHealth current)
    {
        if (previous?.Status != current.Status)
        {
            _hub.Publish(current.InstanceId, "health", new { status = current.Status.ToString().ToLowerInvariant(), detail = current.Detail });
        }
    }

    // Backups report progress per chunk; subscribers get at most four updates a second per backup.
    private void ProgressReported(string id, BackupProgress progress)
    {
        var now = _time.GetUtcNow();
        if (_lastProgress.TryGetValue(id, out var last) && now - last < ProgressInterval)
        {
            return;
        }

        var instanceId = _state.Backups.TryGetValue(id, out var backup) ? backup.InstanceId
            : _state.Operations.TryGetValue(id, out var op) ? op.InstanceId : null;
        if (instanceId is null)
        {
            return;
        }

        _lastProgress[id] = now;
        _hub.Publish(instanceId, "progress", new
        {
            id,
            stage = progress.Stage,
            plaintext_bytes = progress.PlaintextBytes,
            stored_bytes = progress.StoredBytes,
            bytes_per_second = Math.Round(progress.BytesPerSecond),
            elapsed_seconds = Math.Round((progress.At - progress.StartedAt).TotalSeconds, 1),
        });
    }
}

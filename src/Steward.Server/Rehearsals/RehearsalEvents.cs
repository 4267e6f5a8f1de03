using System.Collections.Concurrent;
using Steward.Rehearsals;
using Steward.Server.Backups;
using Steward.Server.Events;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>
/// The rehearsal store as the rest of the broker sees it: every saved rehearsal (queued, each step, the report)
/// becomes a <c>rehearsal</c> event on its instance's stream, and the restore's progress a <c>progress</c> event
/// (at most four a second), so the dashboard and the CLI follow a rehearsal as they follow a backup.
/// </summary>
internal sealed class RehearsalEvents : IRehearsalStore
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private readonly IRehearsalStore _inner;
    private readonly EventHub _hub;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, string> _running = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastProgress = new();

    public RehearsalEvents(IRehearsalStore inner, EventHub hub, ProgressBoard progress, TimeProvider time)
    {
        _inner = inner;
        _hub = hub;
        _time = time;
        progress.Reported += ProgressReported;
    }

    public async Task SaveRehearsalAsync(RehearsalRecord rehearsal, CancellationToken cancellationToken)
    {
        await _inner.SaveRehearsalAsync(rehearsal, cancellationToken);
        if (rehearsal.State == RehearsalState.Running)
        {
            _running[rehearsal.Id] = rehearsal.InstanceId;
        }
        else
        {
            _running.TryRemove(rehearsal.Id, out _);
            _lastProgress.TryRemove(rehearsal.Id, out _);
        }

        _hub.Publish(rehearsal.InstanceId, "rehearsal", new
        {
            id = rehearsal.Id,
            state = rehearsal.State.ToString().ToLowerInvariant(),
            backup_id = rehearsal.BackupId,
            step = rehearsal.Step,
            summary = rehearsal.Summary,
            restore_seconds = rehearsal.RestoreSeconds,
            incident_id = rehearsal.IncidentId,
        });
    }

    public Task<RehearsalRecord?> GetRehearsalAsync(string id, CancellationToken cancellationToken) => _inner.GetRehearsalAsync(id, cancellationToken);

    public Task<IReadOnlyList<RehearsalRecord>> ListRehearsalsAsync(string? instanceId, CancellationToken cancellationToken) => _inner.ListRehearsalsAsync(instanceId, cancellationToken);

    private void ProgressReported(string id, BackupProgress progress)
    {
        var now = _time.GetUtcNow();
        if (!_running.TryGetValue(id, out var instanceId) || (_lastProgress.TryGetValue(id, out var last) && now - last < ProgressInterval))
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

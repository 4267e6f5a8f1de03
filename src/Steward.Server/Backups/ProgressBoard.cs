using System.Collections.Concurrent;
using Steward.Backup.Pipeline;

namespace Steward.Server.Backups;

/// <summary>Live progress of running backups and restores, by backup or operation id. In memory only.</summary>
internal sealed class ProgressBoard(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, BackupProgress> _progress = new();

    public IProgress<PipelineProgress> Track(string id)
    {
        var started = time.GetUtcNow();
        _progress[id] = new BackupProgress("starting", 0, 0, started, started);
        return new Reporter(p =>
        {
            var now = new BackupProgress(p.Stage, p.PlaintextBytes, p.StoredBytes, started, time.GetUtcNow());
            _progress[id] = now;
            Reported?.Invoke(id, now);
        });
    }

    /// <summary>Raised on every progress report with the backup or operation id.</summary>
    public event Action<string, BackupProgress>? Reported;

    public BackupProgress? Get(string id) => _progress.TryGetValue(id, out var p) ? p : null;

    public void Forget(string id) => _progress.TryRemove(id, out _);

    // Progress<T> would post to a synchronization context; the pipeline calls this on its own threads.
    private sealed class Reporter(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => report(value);
    }
}

namespace Steward.Backup.Pipeline;

/// <summary>
/// Counts plaintext and stored bytes from their stages and reports whenever either crossed another interval, so a
/// highly compressible stream still reports progress while little is stored.
/// </summary>
internal sealed class ProgressTracker(IProgress<PipelineProgress>? progress, string stage, long intervalBytes, long? totalStored)
{
    private readonly long _interval = intervalBytes;
    private readonly Lock _gate = new();
    private long _plaintext;
    private long _stored;
    private long _nextPlaintext = intervalBytes;
    private long _nextStored = intervalBytes;

    public long PlaintextBytes => Interlocked.Read(ref _plaintext);

    public long StoredBytes => Interlocked.Read(ref _stored);

    public void AddPlaintext(long bytes)
    {
        var total = Interlocked.Add(ref _plaintext, bytes);
        if (progress is not null && total >= Interlocked.Read(ref _nextPlaintext))
        {
            Interlocked.Exchange(ref _nextPlaintext, total + _interval);
            Report();
        }
    }

    public void AddStored(long bytes)
    {
        var total = Interlocked.Add(ref _stored, bytes);
        if (progress is not null && total >= Interlocked.Read(ref _nextStored))
        {
            Interlocked.Exchange(ref _nextStored, total + _interval);
            Report();
        }
    }

    public void Report()
    {
        lock (_gate)
        {
            progress?.Report(new PipelineProgress(stage, PlaintextBytes, StoredBytes, totalStored));
        }
    }
}

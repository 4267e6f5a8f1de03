using System.IO.Pipelines;

namespace Steward.Backup.Pipeline;

/// <summary>
/// Forwards to another <see cref="PipeWriter"/> while counting every byte advanced and reporting it as progress (the
/// plaintext digest is computed on the consuming side, <see cref="DigestingPipeReader"/>).
/// </summary>
internal sealed class CountingPipeWriter(PipeWriter inner, ProgressTracker? tracker = null) : PipeWriter
{
    private long _bytes;

    public long Bytes => Volatile.Read(ref _bytes);

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        Interlocked.Add(ref _bytes, bytes);
        tracker?.AddPlaintext(bytes);
        inner.Advance(bytes);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        Interlocked.Add(ref _bytes, source.Length);
        tracker?.AddPlaintext(source.Length);
        return inner.WriteAsync(source, cancellationToken);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        inner.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}

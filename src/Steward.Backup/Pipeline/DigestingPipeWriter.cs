using System.IO.Pipelines;
using System.Security.Cryptography;

namespace Steward.Backup.Pipeline;

/// <summary>
/// Forwards to another <see cref="PipeWriter"/> while counting and SHA-256 hashing every byte advanced, so digests
/// cost no extra copy.
/// </summary>
internal sealed class DigestingPipeWriter(PipeWriter inner, ProgressTracker? tracker = null, bool hash = true) : PipeWriter, IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private Memory<byte> _lease;
    private long _bytes;

    public long Bytes => Volatile.Read(ref _bytes);

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override Memory<byte> GetMemory(int sizeHint = 0) => _lease = inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        if (hash)
        {
            _hash.AppendData(_lease.Span[..bytes]);
        }

        _lease = _lease[bytes..];
        Interlocked.Add(ref _bytes, bytes);
        tracker?.AddPlaintext(bytes);
        inner.Advance(bytes);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        if (hash)
        {
            _hash.AppendData(source.Span);
        }

        Interlocked.Add(ref _bytes, source.Length);
        tracker?.AddPlaintext(source.Length);
        return inner.WriteAsync(source, cancellationToken);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        inner.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    /// <summary>The lower-case hex digest of everything written; call once, after the producer finished.</summary>
    public string FinishHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public void Dispose() => _hash.Dispose();
}

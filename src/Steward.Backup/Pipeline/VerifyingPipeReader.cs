using System.Buffers;
using System.IO.Pipelines;
using Steward.Backup.Integrity;

namespace Steward.Backup.Pipeline;

/// <summary>
/// The reader a restore sink consumes: it hashes every byte once, on the sink's own thread as the bytes arrive
/// (the stage that touches them anyway), and before it reports the end of the input it checks size and digest
/// (<see cref="ContentHasher"/>) against the manifest, so a sink never sees a clean end of data that does not match. Hashing here rather than
/// in the decompressor's stage balances the two: decompression on one core, hashing and writing on the other.
/// Handing each buffer to a third thread for hashing was measured slower on 2 busy cores: every hand-off waits for
/// a core, and the buffer cannot be released before both are done.
/// </summary>
internal sealed class VerifyingPipeReader(PipeReader inner, long expectedBytes, string expectedDigest, ProgressTracker tracker)
    : PipeReader, IDisposable
{
    /// <summary>Null when the zstd frames' checksums cover the plaintext (the decoder verified it): only the size is checked here.</summary>
    private readonly ContentHasher? _hash = ContentHasher.AlgorithmOf(expectedDigest) == ContentHasher.ZstdFrames ? null : ContentHasher.ForDigest(expectedDigest);
    private ReadOnlySequence<byte> _last;
    private long _start;
    private long _hashed;
    private bool _verified;

    public long Bytes => _hashed;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        OnRead(await inner.ReadAsync(cancellationToken).ConfigureAwait(false));

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        result = OnRead(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _start += _last.Slice(_last.Start, consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    public void Dispose() => _hash?.Dispose();

    private ReadResult OnRead(ReadResult result)
    {
        _last = result.Buffer;
        var fresh = result.Buffer.Slice(_hashed - _start);
        if (!fresh.IsEmpty)
        {
            _hashed += fresh.Length;
            tracker.AddPlaintext(fresh.Length);
            if (_hashed > expectedBytes)
            {
                throw new BackupIntegrityException($"Restored data has more than the {expectedBytes} bytes the manifest records.");
            }

            if (_hash is not null)
            {
                foreach (var segment in fresh)
                {
                    _hash.Append(segment.Span);
                }
            }
        }

        if (result.IsCompleted && !result.IsCanceled && !_verified)
        {
            _verified = true;
            Verify();
        }

        return result;
    }

    private void Verify()
    {
        if (_hashed != expectedBytes)
        {
            throw new BackupIntegrityException($"Restored data has {_hashed} bytes, the manifest records {expectedBytes}.");
        }

        if (_hash is null)
        {
            return;
        }

        var digest = _hash.Finish();
        if (!ContentHasher.Same(digest, expectedDigest))
        {
            throw new BackupIntegrityException($"Restored data does not match its manifest: {digest}, expected {expectedDigest}.");
        }
    }
}

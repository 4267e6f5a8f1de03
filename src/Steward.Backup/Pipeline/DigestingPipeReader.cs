using System.Buffers;
using System.IO.Pipelines;
using Steward.Backup.Integrity;

namespace Steward.Backup.Pipeline;

/// <summary>
/// Hashes the bytes its consumer consumes (at <see cref="AdvanceTo(SequencePosition)"/>), so the plaintext
/// digest is computed on the consuming stage's thread, in parallel with the source draining its process,
/// without copying the data a second time.
/// </summary>
internal sealed class DigestingPipeReader(PipeReader inner) : PipeReader, IDisposable
{
    private readonly ContentHasher _hash = ContentHasher.Create();
    private ReadOnlySequence<byte> _last;

    public long Bytes { get; private set; }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _last = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (inner.TryRead(out result))
        {
            _last = result.Buffer;
            return true;
        }

        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        foreach (var segment in _last.Slice(_last.Start, consumed))
        {
            _hash.Append(segment.Span);
            Bytes += segment.Length;
        }

        _last = default;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    public string Finish() => _hash.Finish();

    public void Dispose() => _hash.Dispose();
}

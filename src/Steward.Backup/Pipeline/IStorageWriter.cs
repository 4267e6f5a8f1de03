namespace Steward.Backup.Pipeline;

/// <summary>
/// An object being written. Data becomes visible only through <see cref="CompleteAsync"/>; disposing without
/// completing aborts and removes everything written so far.
/// </summary>
public interface IStorageWriter : IAsyncDisposable
{
    /// <summary>Appends <paramref name="data"/>. The memory may be reused as soon as the returned task completes.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Makes the object durable and visible under its key.</summary>
    ValueTask CompleteAsync(CancellationToken cancellationToken);

    /// <summary>Discards the partial object. Safe to call more than once and after a failed write.</summary>
    ValueTask AbortAsync(CancellationToken cancellationToken);
}

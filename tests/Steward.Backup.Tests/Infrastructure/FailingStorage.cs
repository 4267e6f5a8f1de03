using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>Wraps a real storage and makes its writes fail after a number of bytes, like a full disk.</summary>
internal sealed class FailingStorage(IBackupStorage inner, long failAfterBytes) : IBackupStorage
{
    public string Name => inner.Name;

    public async ValueTask<IStorageWriter> OpenWriteAsync(string key, CancellationToken cancellationToken) =>
        new Writer(await inner.OpenWriteAsync(key, cancellationToken), failAfterBytes);

    public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken) => inner.OpenReadAsync(key, cancellationToken);

    public ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken) => inner.ExistsAsync(key, cancellationToken);

    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

    public IAsyncEnumerable<StorageObject> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    private sealed class Writer(IStorageWriter inner, long failAfterBytes) : IStorageWriter
    {
        private long _written;

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            _written += data.Length;
            return _written > failAfterBytes
                ? throw new IOException("No space left on device")
                : inner.WriteAsync(data, cancellationToken);
        }

        public ValueTask CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);

        public ValueTask AbortAsync(CancellationToken cancellationToken) => inner.AbortAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

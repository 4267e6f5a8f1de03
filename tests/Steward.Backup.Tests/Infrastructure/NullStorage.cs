using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>A storage that discards data but keeps manifests, for throughput and memory tests.</summary>
internal sealed class NullStorage : IBackupStorage
{
    private readonly Dictionary<string, byte[]> _small = [];

    public string Name => "null";

    public ValueTask<IStorageWriter> OpenWriteAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IStorageWriter>(new Writer(this, key));

    public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Stream>(new MemoryStream(_small[key]));

    public ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult(_small.ContainsKey(key));

    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
    {
        _small.Remove(key);
        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<StorageObject> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var (key, value) in _small)
        {
            yield return new StorageObject(key, value.Length, DateTimeOffset.UnixEpoch);
        }
    }

    private sealed class Writer(NullStorage storage, string key) : IStorageWriter
    {
        private readonly MemoryStream _head = new();

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            // Keep only what a manifest needs; data objects are counted, not kept.
            if (_head.Length < 64 * 1024)
            {
                _head.Write(data.Span[..Math.Min(data.Length, 64 * 1024)]);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync(CancellationToken cancellationToken)
        {
            storage._small[key] = _head.ToArray();
            return ValueTask.CompletedTask;
        }

        public ValueTask AbortAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

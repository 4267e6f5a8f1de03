using Microsoft.Extensions.Logging;
using Steward.Backup.Logging;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Storage.FileSystem;

/// <summary>Writes a temporary file and renames it into place on completion.</summary>
internal sealed class FileSystemStorageWriter(
    string key, FileStream stream, string temporaryPath, string finalPath, bool fsync, ILogger logger) : IStorageWriter
{
    private long _bytes;
    private bool _completed;
    private bool _aborted;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        _bytes += data.Length;
    }

    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_aborted, this);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (fsync)
        {
            stream.Flush(flushToDisk: true);
        }

        await stream.DisposeAsync().ConfigureAwait(false);
        File.Move(temporaryPath, finalPath, overwrite: true);
        if (fsync)
        {
            PosixDirectory.Sync(Path.GetDirectoryName(finalPath)!);
        }

        _completed = true;
        LogMessages.ObjectCommitted(logger, key, _bytes, "filesystem");
    }

    public async ValueTask AbortAsync(CancellationToken cancellationToken)
    {
        if (_completed || _aborted)
        {
            return;
        }

        _aborted = true;
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The failed write may fail again on close; the file is deleted either way.
        }

        File.Delete(temporaryPath);
        LogMessages.ObjectAborted(logger, key, "filesystem");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AbortAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            LogMessages.AbortFailed(logger, key, "filesystem", ex);
        }
    }
}

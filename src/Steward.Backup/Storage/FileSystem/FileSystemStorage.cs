using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Storage.FileSystem;

/// <summary>
/// Stores objects as files under a root directory. A write goes to a hidden temporary file in the target directory
/// and is fsynced and atomically renamed into place on completion; an aborted write deletes the temporary file.
/// </summary>
public sealed class FileSystemStorage : IBackupStorage, IIncompleteWriteCleanup
{
    internal const string TemporaryPrefix = ".partial-";
    private readonly string _root;
    private readonly bool _fsync;
    private readonly ILogger _logger;

    /// <summary>Creates the storage (and its root directory).</summary>
    public FileSystemStorage(FileSystemStorageOptions options, ILogger<FileSystemStorage>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _root = Path.GetFullPath(options.RootDirectory);
        _fsync = options.Fsync;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Directory.CreateDirectory(_root);
    }

    /// <inheritdoc />
    public string Name => "filesystem";

    /// <inheritdoc />
    public ValueTask<IStorageWriter> OpenWriteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, TemporaryPrefix + Path.GetFileName(path) + "-" + Guid.NewGuid().ToString("N"));
        var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        });
        return ValueTask.FromResult<IStorageWriter>(new FileSystemStorageWriter(key, stream, temporary, path, _fsync, _logger));
    }

    /// <inheritdoc />
    public ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return ValueTask.FromResult(stream);
    }

    /// <inheritdoc />
    public ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(File.Exists(PathOf(key)));

    /// <inheritdoc />
    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(key));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StorageObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        StorageKey.ValidatePrefix(prefix);
        await Task.Yield();
        var files = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories);
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!key.StartsWith(prefix, StringComparison.Ordinal) || !StorageKey.IsValid(key))
            {
                continue;
            }

            var info = new FileInfo(file);
            yield return new StorageObject(key, info.Length, info.LastWriteTimeUtc);
        }
    }

    /// <inheritdoc />
    public ValueTask RemoveIncompleteWritesAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        var directory = Path.GetDirectoryName(path)!;
        if (Directory.Exists(directory))
        {
            foreach (var partial in Directory.EnumerateFiles(directory, TemporaryPrefix + Path.GetFileName(path) + "-*"))
            {
                File.Delete(partial);
            }
        }

        return ValueTask.CompletedTask;
    }

    private string PathOf(string key)
    {
        StorageKey.Validate(key);
        var path = Path.GetFullPath(Path.Combine(_root, key));

        // Belt and braces on top of the key grammar: the path must stay inside the root.
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{key}' resolves outside the storage root.", nameof(key));
        }

        return path;
    }
}

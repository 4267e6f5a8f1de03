namespace Steward.Backup.Pipeline;

/// <summary>
/// Where backups are kept. Objects are addressed by keys of <c>/</c>-separated segments; an object written through
/// <see cref="OpenWriteAsync"/> becomes visible only when its writer is completed.
/// </summary>
public interface IBackupStorage
{
    /// <summary>Stage name used in results and logs (for example <c>filesystem</c>, <c>s3</c>).</summary>
    string Name { get; }

    /// <summary>Starts writing <paramref name="key"/>. Nothing is visible under the key until
    /// <see cref="IStorageWriter.CompleteAsync"/> succeeds; disposing an uncompleted writer aborts it.</summary>
    ValueTask<IStorageWriter> OpenWriteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Opens a completed object for sequential reading.</summary>
    /// <exception cref="FileNotFoundException">The object does not exist.</exception>
    ValueTask<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Whether a completed object exists under <paramref name="key"/>.</summary>
    ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes the object; deleting a missing object is not an error.</summary>
    ValueTask DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Lists completed objects whose key starts with <paramref name="prefix"/>.</summary>
    IAsyncEnumerable<StorageObject> ListAsync(string prefix, CancellationToken cancellationToken);
}

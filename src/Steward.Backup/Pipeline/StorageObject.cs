namespace Steward.Backup.Pipeline;

/// <summary>A completed object in an <see cref="IBackupStorage"/>.</summary>
/// <param name="Key">The object key.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="LastModified">When the object was last written, as reported by the storage.</param>
public sealed record StorageObject(string Key, long Size, DateTimeOffset LastModified);

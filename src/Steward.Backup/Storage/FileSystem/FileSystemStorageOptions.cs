namespace Steward.Backup.Storage.FileSystem;

/// <summary>Options of the local filesystem storage.</summary>
public sealed record FileSystemStorageOptions
{
    /// <summary>Directory the keys are relative to; created if missing.</summary>
    public required string RootDirectory { get; init; }

    /// <summary>Whether to fsync files and their directory before a write counts as complete. Default true.</summary>
    public bool Fsync { get; init; } = true;
}

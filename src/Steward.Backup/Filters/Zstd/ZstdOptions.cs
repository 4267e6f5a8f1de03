namespace Steward.Backup.Filters.Zstd;

/// <summary>Options of the zstd filter.</summary>
public sealed record ZstdOptions
{
    /// <summary>Compression level, 1 (fast) to 19 (small). Default 3, zstd's own default.</summary>
    public int Level { get; init; } = 3;

    internal void Validate() => ArgumentOutOfRangeException.ThrowIfNotEqual(Level is >= 1 and <= 19, true, nameof(Level));
}

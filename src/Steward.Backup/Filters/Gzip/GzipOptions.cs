using System.IO.Compression;

namespace Steward.Backup.Filters.Gzip;

/// <summary>Options of the gzip filter.</summary>
public sealed record GzipOptions
{
    /// <summary>Compression level. Default <see cref="CompressionLevel.Fastest"/>: gzip is the compatibility choice,
    /// zstd the efficient one.</summary>
    public CompressionLevel Level { get; init; } = CompressionLevel.Fastest;
}

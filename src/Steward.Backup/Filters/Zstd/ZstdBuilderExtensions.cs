using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Zstd;

/// <summary>Registers the zstd compression filter.</summary>
public static class ZstdBuilderExtensions
{
    /// <summary>Appends zstd compression (native libzstd, standard <c>.zst</c> frames) to the filter chain.</summary>
    public static BackupPipelineBuilder AddZstd(this BackupPipelineBuilder builder, ZstdOptions? options = null) =>
        builder.AddFilter(new ZstdFilter(options ?? new ZstdOptions()));
}

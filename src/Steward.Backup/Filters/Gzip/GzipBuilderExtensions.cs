using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Gzip;

/// <summary>Registers the gzip compression filter.</summary>
public static class GzipBuilderExtensions
{
    /// <summary>Appends gzip compression to the filter chain.</summary>
    public static BackupPipelineBuilder AddGzip(this BackupPipelineBuilder builder, GzipOptions? options = null) =>
        builder.AddFilter(new GzipFilter(options ?? new GzipOptions()));
}

using Microsoft.Extensions.Logging;

namespace Steward.Backup.Pipeline;

/// <summary>Generic registration methods for <see cref="BackupPipelineBuilder"/> and <see cref="RestorePipelineBuilder"/>.</summary>
public static class PipelineBuilderExtensions
{
    /// <summary>Sets the source.</summary>
    public static BackupPipelineBuilder UseSource(this BackupPipelineBuilder builder, IBackupSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        builder.Source = source;
        return builder;
    }

    /// <summary>Appends a filter to the chain.</summary>
    public static BackupPipelineBuilder AddFilter(this BackupPipelineBuilder builder, IBackupFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        builder.Filters.Add(filter);
        return builder;
    }

    /// <summary>Sets the storage.</summary>
    public static BackupPipelineBuilder UseStorage(this BackupPipelineBuilder builder, IBackupStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        builder.Storage = storage;
        return builder;
    }

    /// <summary>Sets the clock.</summary>
    public static BackupPipelineBuilder UseTimeProvider(this BackupPipelineBuilder builder, TimeProvider timeProvider)
    {
        builder.TimeProvider = timeProvider;
        return builder;
    }

    /// <summary>Sets the logger factory.</summary>
    public static BackupPipelineBuilder UseLoggerFactory(this BackupPipelineBuilder builder, ILoggerFactory loggerFactory)
    {
        builder.LoggerFactory = loggerFactory;
        return builder;
    }

    /// <summary>Sets the storage backups are read from.</summary>
    public static RestorePipelineBuilder UseStorage(this RestorePipelineBuilder builder, IBackupStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        builder.Storage = storage;
        return builder;
    }

    /// <summary>Sets the sink.</summary>
    public static RestorePipelineBuilder UseSink(this RestorePipelineBuilder builder, IRestoreSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        builder.Sink = sink;
        return builder;
    }

    /// <summary>Restores into a caller-owned stream (for example a file); the stream is flushed, not disposed.</summary>
    public static RestorePipelineBuilder UseStreamSink(this RestorePipelineBuilder builder, Stream destination, string name = "stream") =>
        builder.UseSink(new StreamSink(destination, name));

    /// <summary>Sets the clock.</summary>
    public static RestorePipelineBuilder UseTimeProvider(this RestorePipelineBuilder builder, TimeProvider timeProvider)
    {
        builder.TimeProvider = timeProvider;
        return builder;
    }

    /// <summary>Sets the logger factory.</summary>
    public static RestorePipelineBuilder UseLoggerFactory(this RestorePipelineBuilder builder, ILoggerFactory loggerFactory)
    {
        builder.LoggerFactory = loggerFactory;
        return builder;
    }
}

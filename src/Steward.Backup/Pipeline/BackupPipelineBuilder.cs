using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Steward.Backup.Pipeline;

/// <summary>
/// Assembles a <see cref="BackupPipeline"/>. Configure it through the <c>UseXxx</c>/<c>AddXxx</c> extension methods
/// (<c>UseProcessSource</c>, <c>AddZstd</c>, <c>AddAgeEncryption</c>, <c>UseFileSystemStorage</c>, ...); filters run
/// in the order they were added.
/// </summary>
public sealed class BackupPipelineBuilder
{
    /// <summary>The source stage.</summary>
    public IBackupSource? Source { get; set; }

    /// <summary>The filter chain in backup order.</summary>
    public IList<IBackupFilter> Filters { get; } = [];

    /// <summary>The storage stage.</summary>
    public IBackupStorage? Storage { get; set; }

    /// <summary>Buffering options.</summary>
    public PipelineOptions Options { get; set; } = new();

    /// <summary>Clock for manifest timestamps and durations.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Logger factory; logs never contain key material.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Validates the configuration and creates the pipeline.</summary>
    public BackupPipeline Build()
    {
        var source = Source ?? throw new InvalidOperationException("A backup pipeline needs a source (UseSource/UseProcessSource).");
        var storage = Storage ?? throw new InvalidOperationException("A backup pipeline needs a storage (UseStorage/UseFileSystemStorage/UseS3Storage).");
        Options.Validate();
        return new BackupPipeline(source, [.. Filters], storage, Options, TimeProvider,
            LoggerFactory.CreateLogger<BackupPipeline>());
    }
}

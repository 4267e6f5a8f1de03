using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Steward.Backup.Filters;

namespace Steward.Backup.Pipeline;

/// <summary>
/// Assembles a <see cref="RestorePipeline"/>. The filter chain is not configured here: it is read from each backup's
/// manifest and rebuilt through <see cref="Registry"/>, using the keys in <see cref="Keyring"/>.
/// </summary>
public sealed class RestorePipelineBuilder
{
    /// <summary>The storage the backups are read from.</summary>
    public IBackupStorage? Storage { get; set; }

    /// <summary>The sink that consumes the restored plaintext.</summary>
    public IRestoreSink? Sink { get; set; }

    /// <summary>Maps filter names in manifests to filters; <see cref="FilterRegistry.CreateDefault"/> knows zstd, gzip and age.</summary>
    public FilterRegistry Registry { get; set; } = FilterRegistry.CreateDefault();

    /// <summary>Key material the inverse filters need (for example age identities).</summary>
    public RestoreKeyring Keyring { get; set; } = new();

    /// <summary>Buffering options.</summary>
    public PipelineOptions Options { get; set; } = new();

    /// <summary>Clock for durations.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Logger factory; logs never contain key material.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Validates the configuration and creates the pipeline.</summary>
    public RestorePipeline Build()
    {
        var storage = Storage ?? throw new InvalidOperationException("A restore pipeline needs a storage.");
        var sink = Sink ?? throw new InvalidOperationException("A restore pipeline needs a sink (UseSink/UseProcessSink/UseStreamSink).");
        Options.Validate();
        return new RestorePipeline(storage, sink, Registry, Keyring, Options, TimeProvider,
            LoggerFactory.CreateLogger<RestorePipeline>());
    }
}

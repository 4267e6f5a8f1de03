namespace Steward.Backup.Pipeline;

/// <summary>Buffering between stages. Memory use of a run is about (stages × <see cref="BufferBytes"/>) plus the
/// storage's own part buffers, independent of the data size.</summary>
public sealed record PipelineOptions
{
    /// <summary>Bytes a stage may run ahead of the next one before it is paused. Default 1 MiB.</summary>
    public int BufferBytes { get; init; } = 1024 * 1024;

    /// <summary>Minimum pooled segment size of the pipes. Default 64 KiB.</summary>
    public int SegmentBytes { get; init; } = 64 * 1024;

    /// <summary>Bytes between two progress reports. Default 4 MiB.</summary>
    public long ProgressIntervalBytes { get; init; } = 4 * 1024 * 1024;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentBytes, 4096, nameof(SegmentBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(BufferBytes, SegmentBytes * 2, nameof(BufferBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(ProgressIntervalBytes, 1, nameof(ProgressIntervalBytes));
    }
}

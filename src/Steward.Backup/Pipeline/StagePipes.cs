using System.Buffers;
using System.IO.Pipelines;

namespace Steward.Backup.Pipeline;

/// <summary>Creates the bounded pipes between stages.</summary>
internal static class StagePipes
{
    public static Pipe[] Create(int count, PipelineOptions options, int? lastBufferBytes = null)
    {
        var pipes = new Pipe[count];
        for (var i = 0; i < count; i++)
        {
            var bytes = i == count - 1 && lastBufferBytes is { } last ? last : options.BufferBytes;
            pipes[i] = new Pipe(new PipeOptions(
                pool: MemoryPool<byte>.Shared,
                pauseWriterThreshold: bytes,
                resumeWriterThreshold: bytes / 2,
                minimumSegmentSize: options.SegmentBytes,
                useSynchronizationContext: false));
        }

        return pipes;
    }
}

using System.Buffers;
using System.IO.Pipelines;

namespace Steward.Backup.Pipeline;

/// <summary>Creates the bounded pipes between stages.</summary>
internal static class StagePipes
{
    public static Pipe[] Create(int count, PipelineOptions options)
    {
        var pipeOptions = new PipeOptions(
            pool: MemoryPool<byte>.Shared,
            pauseWriterThreshold: options.BufferBytes,
            resumeWriterThreshold: options.BufferBytes / 2,
            minimumSegmentSize: options.SegmentBytes,
            useSynchronizationContext: false);
        var pipes = new Pipe[count];
        for (var i = 0; i < count; i++)
        {
            pipes[i] = new Pipe(pipeOptions);
        }

        return pipes;
    }
}

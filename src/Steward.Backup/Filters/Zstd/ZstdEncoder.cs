using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Zstd;

/// <summary>One zstd compression stream writing into a <see cref="PipeWriter"/>.</summary>
internal sealed unsafe class ZstdEncoder : IDisposable
{
    private static readonly int OutputSize = (int)ZstdNative.CompressionOutputSize();
    private readonly ZstdCompressionHandle _context;

    public ZstdEncoder(int level)
    {
        _context = ZstdNative.CreateCompressionContext();
        if (_context.IsInvalid)
        {
            throw new BackupException("zstd_failed", "zstd: could not create a compression context.");
        }

        Check(ZstdNative.SetParameter(_context, ZstdNative.CompressionLevelParameter, level));
        Check(ZstdNative.SetParameter(_context, ZstdNative.ChecksumFlagParameter, 1));

        // One worker thread inside libzstd compresses while this stage keeps reading and handing over input;
        // the frame format is the same. A libzstd built without threads refuses the parameter: then the
        // stage compresses on its own thread as before.
        _ = ZstdNative.SetParameter(_context, ZstdNative.WorkerCountParameter, 1);
    }

    /// <summary>Feeds <paramref name="source"/>; with the end directive, also finishes the frame.</summary>
    public void Compress(ReadOnlySpan<byte> source, PipeWriter output, int endDirective)
    {
        fixed (byte* src = source)
        {
            var input = new ZstdNative.Buffer { Data = src, Size = (nuint)source.Length };
            nuint remaining;
            do
            {
                var destination = output.GetSpan(OutputSize);
                fixed (byte* dst = destination)
                {
                    var buffer = new ZstdNative.Buffer { Data = dst, Size = (nuint)destination.Length };
                    remaining = Check(ZstdNative.CompressStream2(_context, &buffer, &input, endDirective));
                    output.Advance((int)buffer.Position);
                }
            }
            while (endDirective == ZstdNative.EndDirectiveEnd ? remaining != 0 : input.Position < input.Size);
        }
    }

    private static nuint Check(nuint code) => ZstdNative.IsError(code) != 0
        ? throw new BackupException("zstd_failed", $"zstd: {ZstdNative.ErrorName(code)}")
        : code;

    public void Dispose() => _context.Dispose();
}

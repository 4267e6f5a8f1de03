using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Zstd;

/// <summary>One zstd decompression stream writing into a <see cref="PipeWriter"/>.</summary>
internal sealed unsafe class ZstdDecoder : IDisposable
{
    private static readonly int OutputSize = (int)ZstdNative.DecompressionOutputSize();
    private readonly ZstdDecompressionHandle _context;

    public ZstdDecoder()
    {
        _context = ZstdNative.CreateDecompressionContext();
        if (_context.IsInvalid)
        {
            throw new BackupException("zstd_failed", "zstd: could not create a decompression context.");
        }
    }

    /// <summary>Whether the last call ended exactly at the end of a fully decoded and flushed frame.</summary>
    public bool AtFrameBoundary { get; private set; }

    public void Decompress(ReadOnlySpan<byte> source, PipeWriter output)
    {
        fixed (byte* src = source)
        {
            var input = new ZstdNative.Buffer { Data = src, Size = (nuint)source.Length };
            bool outputFull;
            do
            {
                var destination = output.GetSpan(OutputSize);
                fixed (byte* dst = destination)
                {
                    var buffer = new ZstdNative.Buffer { Data = dst, Size = (nuint)destination.Length };
                    var consumedBefore = input.Position;
                    var code = ZstdNative.DecompressStream(_context, &buffer, &input);
                    if (ZstdNative.IsError(code) != 0)
                    {
                        throw new BackupIntegrityException($"zstd: the compressed stream is corrupt ({ZstdNative.ErrorName(code)}).");
                    }

                    // A call that only checked for pending output after a frame ended must not undo the boundary.
                    if (buffer.Position > 0 || input.Position != consumedBefore)
                    {
                        AtFrameBoundary = code == 0;
                    }

                    output.Advance((int)buffer.Position);
                    outputFull = buffer.Position == buffer.Size;
                }
            }
            while (input.Position < input.Size || outputFull);
        }
    }

    public void Dispose() => _context.Dispose();
}

using System.Runtime.InteropServices;

namespace Steward.Backup.Filters.Zstd;

/// <summary>Thin binding of the streaming API of the system libzstd (Debian package libzstd1).</summary>
internal static unsafe partial class ZstdNative
{
    private const string Library = "libzstd.so.1";

    public const int CompressionLevelParameter = 100;
    public const int ChecksumFlagParameter = 201;
    public const int WorkerCountParameter = 400;
    public const int EndDirectiveContinue = 0;
    public const int EndDirectiveEnd = 2;

    [StructLayout(LayoutKind.Sequential)]
    public struct Buffer
    {
        public void* Data;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Library, EntryPoint = "ZSTD_createCCtx")]
    public static partial ZstdCompressionHandle CreateCompressionContext();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCompressionContext(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_CCtx_setParameter")]
    public static partial nuint SetParameter(ZstdCompressionHandle context, int parameter, int value);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressStream2")]
    public static partial nuint CompressStream2(ZstdCompressionHandle context, Buffer* output, Buffer* input, int endDirective);

    [LibraryImport(Library, EntryPoint = "ZSTD_CStreamOutSize")]
    public static partial nuint CompressionOutputSize();

    [LibraryImport(Library, EntryPoint = "ZSTD_createDCtx")]
    public static partial ZstdDecompressionHandle CreateDecompressionContext();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDCtx")]
    public static partial nuint FreeDecompressionContext(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressStream")]
    public static partial nuint DecompressStream(ZstdDecompressionHandle context, Buffer* output, Buffer* input);

    [LibraryImport(Library, EntryPoint = "ZSTD_DStreamOutSize")]
    public static partial nuint DecompressionOutputSize();

    [LibraryImport(Library, EntryPoint = "ZSTD_minCLevel")]
    public static partial int MinLevel();

    [LibraryImport(Library, EntryPoint = "ZSTD_maxCLevel")]
    public static partial int MaxLevel();

    [LibraryImport(Library, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorName")]
    private static partial nint GetErrorNamePointer(nuint code);

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8(GetErrorNamePointer(code)) ?? "unknown error";
}

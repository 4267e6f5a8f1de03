using Microsoft.Win32.SafeHandles;

namespace Steward.Backup.Filters.Zstd;

/// <summary>Owns a <c>ZSTD_DCtx</c>.</summary>
internal sealed class ZstdDecompressionHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeDecompressionContext(handle);
        return true;
    }
}

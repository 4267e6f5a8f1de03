using Microsoft.Win32.SafeHandles;

namespace Steward.Backup.Filters.Zstd;

/// <summary>Owns a <c>ZSTD_CCtx</c>.</summary>
internal sealed class ZstdCompressionHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeCompressionContext(handle);
        return true;
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Steward.Engines.PostgreSql.Repair;

/// <summary>
/// One 8 KiB PostgreSQL data page as the server checks it when it reads it (<c>PageIsVerifiedExtended</c>): a page
/// in use must have a sane header and, with data checksums on, the checksum of its bytes and block number
/// (<c>pg_checksum_page</c>, FNV-1a over 32 interleaved lanes, as in <c>storage/checksum_impl.h</c>); a new page
/// must be all zeroes. Lets Steward find every damaged page of a file itself, which pg_amcheck cannot (it stops at
/// a relation's first unreadable page), and check a page before and after it is replaced.
/// </summary>
public static class DataPage
{
    /// <summary>BLCKSZ.</summary>
    public const int Size = 8192;

    /// <summary>RELSEG_SIZE: blocks per segment file (1 GiB).</summary>
    public const long BlocksPerSegment = 131072;

    private const uint FnvPrime = 16777619;
    private const int Lanes = 32;

    private static readonly uint[] BaseOffsets =
    [
        0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
        0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
        0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
        0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
    ];

    /// <summary>
    /// The checksum PostgreSQL stores in <c>pd_checksum</c> for <paramref name="page"/> at block <paramref name="block"/> of its fork.
    /// The 32 lanes are four 256-bit vectors where the processor has them (what the C compiler makes of
    /// <c>checksum_impl.h</c>): a backup verifies every page it reads, about 200 000 per GB.
    /// </summary>
    public static ushort Checksum(ReadOnlySpan<byte> page, long block)
    {
        if (page.Length != Size)
        {
            throw new ArgumentException($"a page is {Size} bytes, not {page.Length}", nameof(page));
        }

        var sum = Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian ? LanesVector(page) : LanesScalar(page);
        return Finish(sum, block);
    }

    /// <summary>The same checksum one lane at a time: the reference the vector form is tested against.</summary>
    internal static ushort ChecksumScalar(ReadOnlySpan<byte> page, long block) => Finish(LanesScalar(page), block);

    private static ushort Finish(uint lanes, long block) => (ushort)(((lanes ^ (uint)block) % 65535) + 1);

    private static uint LanesScalar(ReadOnlySpan<byte> page)
    {
        Span<uint> sums = stackalloc uint[Lanes];
        BaseOffsets.CopyTo(sums);
        for (var row = 0; row < Size / (4 * Lanes); row++)
        {
            for (var lane = 0; lane < Lanes; lane++)
            {
                var at = ((row * Lanes) + lane) * 4;

                // pd_checksum (bytes 8-9) counts as zero.
                var value = at == 8 ? BinaryPrimitives.ReadUInt32LittleEndian(page[at..]) & 0xFFFF0000 : BinaryPrimitives.ReadUInt32LittleEndian(page[at..]);
                Mix(ref sums[lane], value);
            }
        }

        for (var round = 0; round < 2; round++)
        {
            for (var lane = 0; lane < Lanes; lane++)
            {
                Mix(ref sums[lane], 0);
            }
        }

        uint result = 0;
        foreach (var s in sums)
        {
            result ^= s;
        }

        return result;
    }

    private static uint LanesVector(ReadOnlySpan<byte> page)
    {
        ref var words = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, uint>(page));
        ref var offsets = ref MemoryMarshal.GetArrayDataReference(BaseOffsets);
        var s0 = Vector256.LoadUnsafe(ref offsets, 0);
        var s1 = Vector256.LoadUnsafe(ref offsets, 8);
        var s2 = Vector256.LoadUnsafe(ref offsets, 16);
        var s3 = Vector256.LoadUnsafe(ref offsets, 24);

        // Row 0 holds pd_checksum in its third word, which counts as zero.
        s0 = Mix(s0, Vector256.LoadUnsafe(ref words, 0) & Vector256.Create(~0u, ~0u, 0xFFFF0000u, ~0u, ~0u, ~0u, ~0u, ~0u));
        s1 = Mix(s1, Vector256.LoadUnsafe(ref words, 8));
        s2 = Mix(s2, Vector256.LoadUnsafe(ref words, 16));
        s3 = Mix(s3, Vector256.LoadUnsafe(ref words, 24));
        for (nuint at = Lanes; at < Size / 4; at += Lanes)
        {
            s0 = Mix(s0, Vector256.LoadUnsafe(ref words, at));
            s1 = Mix(s1, Vector256.LoadUnsafe(ref words, at + 8));
            s2 = Mix(s2, Vector256.LoadUnsafe(ref words, at + 16));
            s3 = Mix(s3, Vector256.LoadUnsafe(ref words, at + 24));
        }

        for (var round = 0; round < 2; round++)
        {
            s0 = Mix(s0, Vector256<uint>.Zero);
            s1 = Mix(s1, Vector256<uint>.Zero);
            s2 = Mix(s2, Vector256<uint>.Zero);
            s3 = Mix(s3, Vector256<uint>.Zero);
        }

        var all = s0 ^ s1 ^ s2 ^ s3;
        uint result = 0;
        for (var lane = 0; lane < Vector256<uint>.Count; lane++)
        {
            result ^= all.GetElement(lane);
        }

        return result;
    }

    private static Vector256<uint> Mix(Vector256<uint> sum, Vector256<uint> value)
    {
        var tmp = sum ^ value;
        return (tmp * Vector256.Create(FnvPrime)) ^ Vector256.ShiftRightLogical(tmp, 17);
    }

    /// <summary>The checksum recorded in the page's header.</summary>
    public static ushort StoredChecksum(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[8..]);

    /// <summary>The page's LSN (<c>pd_lsn</c>): the end of the last WAL record that changed it.</summary>
    public static ulong Lsn(ReadOnlySpan<byte> page) =>
        ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(page) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(page[4..]);

    /// <summary>Null when the server would read the page without complaint; otherwise what is wrong with it.</summary>
    public static string? Problem(ReadOnlySpan<byte> page, long block, bool checksums)
    {
        var upper = BinaryPrimitives.ReadUInt16LittleEndian(page[14..]);
        if (upper != 0)
        {
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(page[10..]);
            var lower = BinaryPrimitives.ReadUInt16LittleEndian(page[12..]);
            var special = BinaryPrimitives.ReadUInt16LittleEndian(page[16..]);
            var sane = (flags & ~0x0007) == 0 && lower <= upper && upper <= special && special <= Size && special % 8 == 0;
            var expected = checksums ? Checksum(page, block) : (ushort)0;
            var stored = StoredChecksum(page);
            if (sane && (!checksums || expected == stored))
            {
                return null;
            }

            return checksums && expected != stored
                ? $"checksum {stored} in the page, {expected} computed{(sane ? string.Empty : "; header not sane")}"
                : $"header not sane (pd_flags {flags:x4}, pd_lower {lower}, pd_upper {upper}, pd_special {special})";
        }

        return page.IndexOfAnyExcept((byte)0) < 0 ? null : "a new page (pd_upper 0) that is not all zeroes";
    }

    /// <summary>The fork's block number of block <paramref name="blockInFile"/> of segment file <paramref name="fileName"/> (<c>16390</c>, <c>16390.2</c>, <c>16390_vm</c>).</summary>
    public static long ForkBlock(string fileName, long blockInFile)
    {
        var dot = fileName.LastIndexOf('.');
        var segment = dot > 0 && long.TryParse(fileName[(dot + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 0;
        return (segment * BlocksPerSegment) + blockInFile;
    }

    private static void Mix(ref uint sum, uint value)
    {
        var tmp = sum ^ value;
        sum = (tmp * FnvPrime) ^ (tmp >> 17);
    }
}

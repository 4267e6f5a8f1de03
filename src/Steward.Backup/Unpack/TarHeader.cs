using System.Text;

namespace Steward.Backup.Unpack;

/// <summary>
/// One 512-byte tar header block, as POSIX ustar, GNU tar and pg_basebackup write them: name (with the ustar
/// prefix), mode, size (octal, or base-256 past 8 GiB), modification time and type. The header checksum is checked.
/// </summary>
internal readonly record struct TarHeader(string Name, char Type, int Mode, long Size, long ModifiedSeconds)
{
    public const int BlockSize = 512;

    public const char RegularFile = '0';
    public const char Directory = '5';
    public const char PaxExtended = 'x';
    public const char PaxGlobal = 'g';
    public const char GnuLongName = 'L';
    public const char GnuLongLink = 'K';

    /// <summary>Whether the block is all zeros (two of them end the archive).</summary>
    public static bool IsZero(ReadOnlySpan<byte> block) => !block.ContainsAnyExcept((byte)0);

    /// <summary>Parses a header block; throws <see cref="InvalidDataException"/> when it is not one.</summary>
    public static TarHeader Parse(ReadOnlySpan<byte> block, long offset)
    {
        var recorded = Number(block.Slice(148, 8), offset, "checksum");
        long unsigned = 0, signed = 0;
        for (var i = 0; i < BlockSize; i++)
        {
            var b = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsigned += b;
            signed += (sbyte)b;
        }

        if (recorded != unsigned && recorded != signed)
        {
            throw new InvalidDataException($"the tar header at byte {offset} is damaged (checksum {unsigned}, recorded {recorded}).");
        }

        var type = block[156] == 0 ? RegularFile : (char)block[156];
        var name = Text(block[..100]);

        // POSIX ustar splits long names into prefix/name; GNU tar ("ustar  ") uses that space for other fields.
        if (block.Slice(257, 6).SequenceEqual("ustar\0"u8) && block[345] != 0)
        {
            name = Text(block.Slice(345, 155)) + "/" + name;
        }

        return new TarHeader(name, type, (int)Number(block.Slice(100, 8), offset, "mode"), Number(block.Slice(124, 12), offset, "size"),
            Number(block.Slice(136, 12), offset, "mtime"));
    }

    /// <summary>The bytes of data after a header of <paramref name="size"/> bytes, padded to whole blocks.</summary>
    public static long Padding(long size) => (BlockSize - (size % BlockSize)) % BlockSize;

    internal static string Text(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static long Number(ReadOnlySpan<byte> field, long offset, string what)
    {
        // Base-256 (GNU, and pg_basebackup for files of 8 GiB and more): the high bit of the first byte is set.
        if ((field[0] & 0x80) != 0)
        {
            long big = field[0] & 0x7f;
            foreach (var b in field[1..])
            {
                big = checked((big << 8) | b);
            }

            return big;
        }

        long value = 0;
        var digits = 0;
        foreach (var b in field)
        {
            if (b is (byte)' ' or 0)
            {
                if (digits > 0)
                {
                    break;
                }

                continue;
            }

            if (b is < (byte)'0' or > (byte)'7')
            {
                throw new InvalidDataException($"the tar header at byte {offset} is damaged (its {what} field is not an octal number).");
            }

            value = (value << 3) | (uint)(b - '0');
            digits++;
        }

        return value;
    }
}

using System.Globalization;

namespace Steward.Wal;

/// <summary>PostgreSQL log sequence numbers as text (<c>16/B374D848</c>) and as numbers.</summary>
public static class Lsn
{
    /// <summary>Parses an LSN; throws <see cref="FormatException"/> for anything else.</summary>
    public static long Parse(string lsn) => TryParse(lsn, out var value) ? value : throw new FormatException($"'{lsn}' is not an LSN like 0/3000028");

    public static bool TryParse(string? lsn, out long value)
    {
        value = 0;
        var parts = lsn?.Split('/');
        if (parts is not { Length: 2 }
            || !uint.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hi)
            || !uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var lo)
            || parts[0].Length is 0 or > 8 || parts[1].Length is 0 or > 8)
        {
            return false;
        }

        value = ((long)hi << 32) | lo;
        return true;
    }

    public static string Format(long value) => string.Create(CultureInfo.InvariantCulture, $"{(uint)(value >> 32):X}/{(uint)value:X}");
}

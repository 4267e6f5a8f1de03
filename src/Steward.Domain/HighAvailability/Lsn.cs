using System.Globalization;

namespace Steward.HighAvailability;

/// <summary>WAL positions in PostgreSQL's text form (<c>16/B374D848</c>).</summary>
public static class Lsn
{
    public static ulong? Parse(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0
            && ulong.TryParse(text.AsSpan(0, slash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hi)
            && ulong.TryParse(text.AsSpan(slash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var lo)
            ? (hi << 32) | lo
            : null;
    }

    public static string? Format(ulong? lsn) =>
        lsn is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v >> 32:X}/{v & 0xFFFFFFFF:X}") : null;
}

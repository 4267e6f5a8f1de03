using System.Globalization;
using System.Text.RegularExpressions;

namespace Steward.Wal;

/// <summary>What a WAL file's name says: kind, timeline and (for segments) the segment number.</summary>
public sealed partial record WalName(string Name, WalFileKind Kind, int Timeline, long Segment)
{
    /// <summary>Segments per 4 GiB "log" with PostgreSQL's default 16 MiB segments.</summary>
    public const long SegmentsPerLog = 256;

    /// <summary>Bytes of one segment (the default; Steward does not change it).</summary>
    public const long SegmentBytes = 16L * 1024 * 1024;

    /// <summary>Parses a name PostgreSQL archives; null for anything else (so nothing else is accepted).</summary>
    public static WalName? Parse(string name)
    {
        var m = Pattern().Match(name);
        if (!m.Success)
        {
            return null;
        }

        var timeline = int.Parse(m.Groups["tli"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (m.Groups["history"].Success)
        {
            return new WalName(name, WalFileKind.History, timeline, -1);
        }

        var segment = (long.Parse(m.Groups["log"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) * SegmentsPerLog)
            + long.Parse(m.Groups["seg"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var kind = m.Groups["partial"].Success ? WalFileKind.Partial : m.Groups["backup"].Success ? WalFileKind.BackupHistory : WalFileKind.Segment;
        return new WalName(name, kind, timeline, segment);
    }

    /// <summary>The segment name for a timeline and segment number.</summary>
    public static string SegmentName(int timeline, long segment) =>
        string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{segment / SegmentsPerLog:X8}{segment % SegmentsPerLog:X8}");

    /// <summary>The segment of a timeline holding an LSN.</summary>
    public static WalName SegmentHolding(int timeline, long lsn) =>
        new(SegmentName(timeline, lsn / SegmentBytes), WalFileKind.Segment, timeline, lsn / SegmentBytes);

    /// <summary>The segment number holding an LSN written as PostgreSQL does (<c>0/3000028</c>).</summary>
    public static long SegmentOf(string lsn) => Lsn.Parse(lsn) / SegmentBytes;

    [GeneratedRegex(@"^(?<tli>[0-9A-F]{8})(?:\.history(?<history>)|(?<log>[0-9A-F]{8})(?<seg>[0-9A-F]{8})(?:\.partial(?<partial>)|\.[0-9A-F]{8}\.backup(?<backup>))?)$")]
    private static partial Regex Pattern();
}

/// <summary>The kinds of files PostgreSQL archives.</summary>
public enum WalFileKind
{
    Segment,
    Partial,
    History,
    BackupHistory,
}

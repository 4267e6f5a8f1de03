using System.Globalization;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// The timelines of an instance's archive and which segments each one's history reads: a timeline's history file
/// lists every ancestor with the LSN where it was left, and recovery reads each segment from the newest timeline
/// of the path that had begun by then.
/// </summary>
internal sealed class WalTimelines
{
    private readonly Dictionary<int, List<(int Timeline, long Begin)>> _paths = [];
    private readonly Dictionary<int, DateTimeOffset> _started = [];
    private readonly HashSet<(int Timeline, long Segment)> _segments = [];
    private readonly Dictionary<(int Timeline, long Segment), WalFile> _files = [];

    public WalTimelines(IReadOnlyList<WalFile> files)
    {
        _paths[1] = [(1, 0)];
        foreach (var file in files)
        {
            if (WalName.Parse(file.Name) is not { } name)
            {
                continue;
            }

            if (name.Kind == WalFileKind.Segment)
            {
                _segments.Add((name.Timeline, name.Segment));
                _files[(name.Timeline, name.Segment)] = file;
            }
            else if (name.Kind == WalFileKind.History && file.History is { } history)
            {
                _paths[name.Timeline] = ParsePath(name.Timeline, history);
                _started[name.Timeline] = file.ArchivedAt;
            }
        }

        Current = _paths.Keys.Concat(_segments.Select(s => s.Timeline)).DefaultIfEmpty(1).Max();
    }

    /// <summary>The newest timeline in the archive: the one the instance runs on.</summary>
    public int Current { get; }

    public IEnumerable<int> All => _paths.Keys.Concat(_segments.Select(s => s.Timeline)).Distinct().Order();

    /// <summary>When a timeline began (its history file was archived at its promotion); null for timeline 1.</summary>
    public DateTimeOffset? StartedAt(int timeline) => _started.TryGetValue(timeline, out var at) ? at : null;

    /// <summary>The timeline that was live at <paramref name="at"/>: the newest one begun by then.</summary>
    public int LiveAt(DateTimeOffset at) => All.Where(t => t == 1 || (StartedAt(t) is { } s && s <= at)).DefaultIfEmpty(1).Max();

    /// <summary>Where <paramref name="timeline"/> of path <paramref name="target"/> ends (the LSN it was left at), or null if it is the target.</summary>
    public long? EndOf(int target, int timeline)
    {
        var path = Path(target);
        var i = path.FindIndex(p => p.Timeline == timeline);
        return i < 0 ? throw new ArgumentException($"timeline {timeline} is not on timeline {target}'s path") : i + 1 < path.Count ? path[i + 1].Begin : null;
    }

    /// <summary>Whether a base backup on <paramref name="timeline"/> that stopped at <paramref name="stopLsn"/> lies on the path of <paramref name="target"/>.</summary>
    public bool OnPath(int target, int timeline, long stopLsn) =>
        Path(target).Any(p => p.Timeline == timeline) && (EndOf(target, timeline) is not { } end || stopLsn <= end);

    /// <summary>The last segment recovery along <paramref name="target"/>'s path can read without a gap, starting at <paramref name="from"/>; from - 1 when even that one is missing.</summary>
    public long ChainEnd(int target, long from)
    {
        var s = from;
        while (SegmentFile(target, s) is not null)
        {
            s++;
        }

        return s - 1;
    }

    /// <summary>The archived file recovery along <paramref name="target"/>'s path reads for segment <paramref name="segment"/>.</summary>
    public WalFile? SegmentFile(int target, long segment)
    {
        foreach (var (timeline, begin) in Enumerable.Reverse(Path(target)))
        {
            if (begin / WalName.SegmentBytes <= segment && _files.TryGetValue((timeline, segment), out var file))
            {
                return file;
            }
        }

        return null;
    }

    private List<(int Timeline, long Begin)> Path(int target) =>
        _paths.TryGetValue(target, out var path) ? path : target == 1 ? [(1, 0)] : [(target, 0)];

    private static List<(int Timeline, long Begin)> ParsePath(int timeline, string history)
    {
        var path = new List<(int, long)>();
        long begin = 0;
        foreach (var (parent, end) in TimelineHistory.Parse(history))
        {
            path.Add((parent, begin));
            begin = end;
        }

        path.Add((timeline, begin));
        return path;
    }
}

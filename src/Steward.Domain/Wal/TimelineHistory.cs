using System.Globalization;

namespace Steward.Wal;

/// <summary>One line of a PostgreSQL timeline history file: timeline <see cref="Parent"/> was left at <see cref="SwitchPoint"/>.</summary>
public readonly record struct TimelineSwitch(int Parent, long SwitchPoint);

/// <summary>Reads PostgreSQL timeline history files (<c>00000002.history</c>): the timelines a timeline descends from, oldest first.</summary>
public static class TimelineHistory
{
    /// <summary>
    /// The switches a history file records, oldest first; comments, blank lines and malformed lines are skipped,
    /// as PostgreSQL's own reader does (<c>parentTLI switchpoint reason</c>, separated by tabs or spaces).
    /// </summary>
    public static IReadOnlyList<TimelineSwitch> Parse(string history)
    {
        var switches = new List<TimelineSwitch>();
        foreach (var line in history.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (!line.StartsWith('#') && fields.Length >= 2 && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var parent) && Lsn.TryParse(fields[1], out var end))
            {
                switches.Add(new TimelineSwitch(parent, end));
            }
        }

        return switches;
    }
}

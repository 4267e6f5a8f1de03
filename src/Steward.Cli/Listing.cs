using Spectre.Console;

namespace Steward.Cli;

/// <summary>
/// A table a person reads and copies from. Ids, URIs and timestamps (<see cref="Whole"/> columns) are never
/// wrapped or cut: when standard output is not a terminal every record is one tab-separated line under a header
/// line; on a terminal the other columns wrap first, and a terminal too narrow even for the whole columns gets one
/// <c>key: value</c> line per field instead of a table.
/// </summary>
internal sealed class Listing
{
    private readonly (string Name, bool Whole)[] _columns;
    private readonly List<string[]> _rows = [];

    public Listing(params (string Name, bool Whole)[] columns) => _columns = columns;

    /// <summary>A column that is never wrapped or cut (ids, URIs, timestamps).</summary>
    public static (string, bool) Whole(string name) => (name, true);

    /// <summary>A column that may wrap on a narrow terminal.</summary>
    public static (string, bool) Wraps(string name) => (name, false);

    public Listing Add(params string?[] cells)
    {
        _rows.Add([.. cells.Select(c => c ?? "-")]);
        return this;
    }

    public void Write()
    {
        if (Console.IsOutputRedirected)
        {
            Console.Out.WriteLine(string.Join('\t', _columns.Select(c => c.Name)));
            foreach (var row in _rows)
            {
                Console.Out.WriteLine(string.Join('\t', row.Select(Flat)));
            }

            return;
        }

        if (!FitsAsTable(AnsiConsole.Profile.Width))
        {
            WriteRecords();
            return;
        }

        var table = new Table();
        foreach (var (name, whole) in _columns)
        {
            var column = new TableColumn(Markup.Escape(name));
            table.AddColumn(whole ? column.NoWrap() : column);
        }

        foreach (var row in _rows)
        {
            table.AddRow([.. row.Select(c => Markup.Escape(c))]);
        }

        AnsiConsole.Write(table);
    }

    /// <summary>Whole columns at their widest cell, the others at a few characters, plus the borders and padding.</summary>
    private bool FitsAsTable(int width)
    {
        var needed = 1;
        for (var i = 0; i < _columns.Length; i++)
        {
            var widest = _rows.Select(r => r[i].Length).Append(_columns[i].Name.Length).Max();
            needed += (_columns[i].Whole ? widest : Math.Min(widest, 6)) + 3;
        }

        return needed <= width;
    }

    private void WriteRecords()
    {
        var pad = _columns.Max(c => c.Name.Length) + 1;
        foreach (var row in _rows)
        {
            for (var i = 0; i < _columns.Length; i++)
            {
                Console.Out.WriteLine($"{(_columns[i].Name + ":").PadRight(pad)} {Flat(row[i])}");
            }

            Console.Out.WriteLine();
        }
    }

    private static string Flat(string cell) => cell.Replace('\t', ' ').Replace('\n', ' ').Replace("\r", string.Empty, StringComparison.Ordinal);
}

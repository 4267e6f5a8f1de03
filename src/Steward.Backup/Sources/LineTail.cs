namespace Steward.Backup.Sources;

/// <summary>Drains a process's text output and keeps only its last lines, so memory stays bounded.</summary>
internal sealed class LineTail(int capacity, Action<string>? observer = null)
{
    private const int MaxLineLength = 512;
    private readonly Queue<string> _lines = new();

    public async Task DrainAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            observer?.Invoke(line);
            lock (_lines)
            {
                _lines.Enqueue(line.Length > MaxLineLength ? line[..MaxLineLength] + "…" : line);
                while (_lines.Count > capacity)
                {
                    _lines.Dequeue();
                }
            }
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join('\n', _lines);
        }
    }
}

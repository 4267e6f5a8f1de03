namespace Steward.Cli;

/// <summary>One record as <c>key: value</c> lines, keys aligned. Values are written whole on their line, never wrapped
/// or cut by the CLI, so an id, URI or password is copied in one piece.</summary>
internal sealed class Fields
{
    private readonly List<(string Key, string Value)> _fields = [];

    public Fields Add(string key, string? value)
    {
        _fields.Add((key, (value ?? "-").Replace('\n', ' ').Replace("\r", string.Empty, StringComparison.Ordinal)));
        return this;
    }

    public void Write()
    {
        var pad = _fields.Count == 0 ? 0 : _fields.Max(f => f.Key.Length) + 1;
        foreach (var (key, value) in _fields)
        {
            Console.Out.WriteLine($"{(key + ":").PadRight(pad)} {value}");
        }
    }
}

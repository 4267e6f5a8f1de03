namespace Steward.Rehearsals;

/// <summary>
/// Runs a sandbox's server and tools below the live instances: <c>nice -n 10</c> for the CPU and
/// <c>ionice -c 2 -n 7</c> (best effort, lowest) for the disk, both inherited by every child process. Either
/// tool missing is skipped; the command then runs at normal priority.
/// </summary>
public static class LowPriority
{
    private const string Nice = "/usr/bin/nice";
    private const string IoNice = "/usr/bin/ionice";

    /// <summary>The same command, started at low CPU and IO priority where the tools exist.</summary>
    public static (string FileName, IReadOnlyList<string> Arguments) Wrap(string fileName, IReadOnlyList<string> arguments)
    {
        var prefix = new List<string>();
        if (File.Exists(Nice))
        {
            prefix.AddRange([Nice, "-n", "10"]);
        }

        if (File.Exists(IoNice))
        {
            prefix.AddRange([IoNice, "-c", "2", "-n", "7"]);
        }

        return prefix.Count == 0 ? (fileName, arguments) : (prefix[0], [.. prefix.Skip(1), fileName, .. arguments]);
    }

    /// <summary>A description for reports: what the sandbox ran under.</summary>
    public static string Describe() =>
        string.Join(", ", new[] { File.Exists(Nice) ? "nice 10" : null, File.Exists(IoNice) ? "ionice best-effort 7" : null }.OfType<string>()) is { Length: > 0 } d ? d : "normal priority (nice/ionice not found)";
}

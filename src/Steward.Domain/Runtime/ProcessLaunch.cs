namespace Steward.Runtime;

/// <summary>
/// How to run a data service server in the foreground. Secrets never go into <see cref="Arguments"/>
/// (they are visible in the process table); they go into files or <see cref="Environment"/>.
/// </summary>
public sealed record ProcessLaunch(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>Variables added to the otherwise empty environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The signal that asks the server to shut down cleanly (SIGINT for PostgreSQL's fast shutdown).</summary>
    public int StopSignal { get; init; } = 15;
}

namespace Steward.Runtime;

/// <summary>Outcome of a short-lived tool run (initdb and the like).</summary>
public sealed record ToolResult(int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;
}

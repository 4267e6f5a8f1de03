namespace Steward.Cli;

/// <summary>A failure to report to the user in one line, with the exit code it maps to.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

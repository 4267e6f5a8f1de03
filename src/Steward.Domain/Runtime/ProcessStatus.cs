namespace Steward.Runtime;

/// <summary>What the runtime sees of an instance's server process.</summary>
public abstract record ProcessStatus
{
    private ProcessStatus()
    {
    }

    /// <summary>The server process is alive.</summary>
    public sealed record Running(int Pid) : ProcessStatus;

    /// <summary>The server ended; its exit status as the supervising shell saw it.</summary>
    public sealed record Exited(int? ExitCode, int? Signal) : ProcessStatus;

    /// <summary>Never started, or stopped and cleaned up.</summary>
    public sealed record NotRunning : ProcessStatus;
}

namespace Steward.Runtime;

/// <summary>What the runtime sees of an instance's server process.</summary>
public abstract record ProcessStatus
{
    private ProcessStatus()
    {
    }

    /// <summary>The server process is alive.</summary>
    public sealed record Running(int Pid) : ProcessStatus
    {
        /// <summary>
        /// True when something stopped the process (SIGSTOP, a debugger): it exists and holds its data, but runs
        /// no code until it is continued. A stopped process is not a hung one.
        /// </summary>
        public bool Stopped { get; init; }

        /// <summary>The scheduler state as the runtime reports it, e.g. "S (sleeping)", "T (stopped)".</summary>
        public string State { get; init; } = "unknown";
    }

    /// <summary>The server ended; its exit status as the supervising shell saw it.</summary>
    public sealed record Exited(int? ExitCode, int? Signal) : ProcessStatus
    {
        /// <summary>
        /// True when the runtime saw the kernel's OOM killer end this very server (its memory cgroup's count of OOM
        /// kills rose while it ran, and it died of SIGKILL); false when it cannot tell or it was not.
        /// </summary>
        public bool OomKilled { get; init; }
    }

    /// <summary>Never started, or stopped and cleaned up.</summary>
    public sealed record NotRunning : ProcessStatus;
}

namespace Steward.Bench.Supervision;

/// <summary>The failures the benchmark injects.</summary>
internal enum Fault
{
    /// <summary>SIGKILL of the server process.</summary>
    Kill,

    /// <summary>SIGSTOP: the process exists and holds its port and data but runs no code until it is continued.</summary>
    Stop,

    /// <summary>An invalid setting appended to postgresql.conf, then SIGKILL: the restart meets the bad configuration.</summary>
    ConfigError,

    /// <summary>global/pg_control removed, then SIGKILL.</summary>
    Corruption,

    /// <summary>Every new server pid is SIGKILLed about a second after it appears.</summary>
    CrashLoop,
}

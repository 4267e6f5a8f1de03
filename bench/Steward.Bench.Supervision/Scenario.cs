namespace Steward.Bench.Supervision;

/// <summary>One injected failure and what a correct supervisor does about it.</summary>
internal sealed record Scenario(string Key, string Title, Service Service, Fault Fault, string ExpectedClass, string ExpectedState)
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("redis-kill", "SIGKILL", Service.Redis, Fault.Kill, "killed-by-signal", "resolved"),
        new("pg-kill", "SIGKILL", Service.PostgreSql, Fault.Kill, "killed-by-signal", "resolved"),
        new("redis-stop", "SIGSTOP (stopped process)", Service.Redis, Fault.Stop, "process-stopped", "resolved"),
        new("pg-config", "`shared_buffers = 'banana'` + SIGKILL", Service.PostgreSql, Fault.ConfigError, "config-error", "quarantined"),
        new("pg-corrupt", "`global/pg_control` removed + SIGKILL", Service.PostgreSql, Fault.Corruption, "data-corruption", "quarantined"),
        new("redis-loop", "crash loop (SIGKILL ~1 s after every start)", Service.Redis, Fault.CrashLoop, "killed-by-signal", "quarantined"),
    ];

    /// <summary>Restarts the supervisor should spend before the outcome.</summary>
    public int ExpectedRestarts(Policy policy) => Fault switch
    {
        Fault.Corruption or Fault.Stop => 0, // a stopped process is continued, never restarted
        Fault.CrashLoop => policy.MaxRestarts,
        _ => 1, // the config error only shows when the killed server is started again
    };

    /// <summary>The latest the failure should be detected under <paramref name="policy"/>.</summary>
    public TimeSpan DetectionBound(Policy policy) => policy.ExitBound;
}

namespace Steward.Bench.Supervision;

/// <summary>Injects each failure the way the supervision tests do, and takes the time right after the decisive act.</summary>
internal static class Injector
{
    public static async Task<Injection> InjectAsync(Fault fault, string directory, int pid, CancellationToken ct)
    {
        switch (fault)
        {
            case Fault.Kill:
                return Signal(pid, Signals.Kill);
            case Fault.Stop:
                return Signal(pid, Signals.Stop);
            case Fault.ConfigError:
                await File.AppendAllTextAsync(Path.Combine(directory, "config", "postgresql.conf"), "shared_buffers = 'banana'\n", ct);
                return Signal(pid, Signals.Kill);
            case Fault.Corruption:
                File.Delete(Path.Combine(directory, "data", "global", "pg_control"));
                return Signal(pid, Signals.Kill);
            case Fault.CrashLoop:
                var killer = new CrashLoopKiller(directory, pid);
                return new Injection(await killer.FirstKill.WaitAsync(ct), killer);
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private static Injection Signal(int pid, int signal) =>
        Signals.Send(pid, signal)
            ? new Injection(TimeProvider.System.GetUtcNow(), null)
            : throw new InvalidOperationException($"pid {pid} was already gone before the injection");
}

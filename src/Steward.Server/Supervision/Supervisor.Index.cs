namespace Steward.Server.Supervision;

/// <summary>
/// What keeps supervision's cost proportional to its work: the instances come from the shared in-memory
/// <see cref="Operations.InstanceIndex"/> (read from the store only when it changed), and at most
/// <see cref="MaxConcurrentChecks"/> protocol checks run at once, so hundreds of instances due together queue instead
/// of opening hundreds of connections at the same moment.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>Checks that may run at once; each is a short connection and query, mostly waiting on the network.</summary>
    internal const int MaxConcurrentChecks = 32;

    private readonly SemaphoreSlim _checkSlots = new(MaxConcurrentChecks);
    private long _ticks;

    /// <summary>Ticks since the broker started (the metric <c>steward_supervisor_ticks_total</c>).</summary>
    public long Ticks => Interlocked.Read(ref _ticks);
}

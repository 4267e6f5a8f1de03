namespace Steward.State;

/// <summary>
/// The one lease that makes a broker the active one when several share a state store. The record carries no expiry:
/// each broker times it by its own clock from when it last saw the record change (as Kubernetes' leader election does),
/// so brokers whose clocks disagree still agree on who holds it.
/// </summary>
public interface IBrokerLease
{
    /// <summary>The lease as it is now; null when no broker ever took it.</summary>
    Task<LeaseRecord?> ReadLeaseAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes the lease for <paramref name="holder"/> if it is still as <paramref name="observed"/> (null: never taken);
    /// returns the lease now held, or null when another broker changed it first.
    /// </summary>
    Task<LeaseRecord?> TakeLeaseAsync(string holder, LeaseRecord? observed, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Renews a lease this broker holds; null when it no longer holds it (another took it over).</summary>
    Task<LeaseRecord?> RenewLeaseAsync(LeaseRecord held, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives the lease up, so a standby takes it at its next look instead of after the lease's duration.</summary>
    Task ReleaseLeaseAsync(LeaseRecord held, CancellationToken cancellationToken);
}

/// <summary>
/// Who holds the broker lease (empty when it was given up), the holder's term (grows at every change of holder) and the
/// record's version (grows at every renewal: a version that stops growing is a holder that stopped renewing).
/// </summary>
public sealed record LeaseRecord(string Holder, long Epoch, long Version)
{
    public bool Released => Holder.Length == 0;
}

namespace Steward.HighAvailability;

/// <summary>
/// How one member replicates. <see cref="SlotName"/> identifies it to the primary; commits wait for
/// <see cref="Quorum"/> of <see cref="SynchronousNames"/> (ANY n), so losing one standby never blocks them.
/// </summary>
public sealed record ReplicationRole(string SlotName, int? PrimaryPort, IReadOnlyList<string> SynchronousNames, int Quorum)
{
    public bool IsStandby => PrimaryPort is not null;

    /// <summary>
    /// Where a standby reaches its primary; null: at the member's own client host (members beside each other on one
    /// machine). On Kubernetes every member has an address of its own (its Service).
    /// </summary>
    public string? PrimaryHost { get; init; }
}

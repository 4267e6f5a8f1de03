namespace Steward.Pool;

/// <summary>
/// One data directory of the warm pool: initialised ahead for a service, with its own administrator secret, under
/// the engine's fingerprint at the time. Building until its initialisation finished; Ready to be handed out; Taken
/// by one provisioning instance until its files have moved into the instance's directory.
/// </summary>
public sealed record PoolEntry
{
    public required string Id { get; init; }

    public required string ServiceId { get; init; }

    public required string Fingerprint { get; init; }

    public required PoolEntryState State { get; init; }

    /// <summary>The administrator password the directory was initialised with; sealed at rest.</summary>
    public required string AdminPassword { get; init; }

    /// <summary>The instance that took it; null until taken.</summary>
    public string? InstanceId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Not printed: the record holds the admin password.</summary>
    public override string ToString() => $"PoolEntry {{ Id = {Id}, State = {State} }}";
}

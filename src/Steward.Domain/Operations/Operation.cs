namespace Steward.Operations;

/// <summary>
/// A durable record of one long action. It is written before any work starts and updated after each step,
/// so a broker that dies mid-way can resume it from <see cref="Step"/>.
/// </summary>
public sealed record Operation
{
    public required string Id { get; init; }

    public required string InstanceId { get; init; }

    public string? BindingId { get; init; }

    public required OperationKind Kind { get; init; }

    public required OperationState State { get; init; }

    /// <summary>Human-readable status shown by last_operation.</summary>
    public required string Description { get; init; }

    /// <summary>The last step that completed.</summary>
    public string? Step { get; init; }

    /// <summary>Kind-specific input (target plan and parameters of an update).</summary>
    public string? PayloadJson { get; init; }

    /// <summary>The X-Broker-API-Originating-Identity header as received.</summary>
    public string? OriginatingIdentity { get; init; }

    /// <summary>The X-Broker-API-Request-Identity header as received.</summary>
    public string? RequestIdentity { get; init; }

    /// <summary>After a failure: whether the instance still serves clients.</summary>
    public bool? InstanceUsable { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

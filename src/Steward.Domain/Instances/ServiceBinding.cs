namespace Steward.Instances;

/// <summary>A binding: one set of credentials on one instance.</summary>
public sealed record ServiceBinding
{
    public required string Id { get; init; }

    public required string InstanceId { get; init; }

    public required string ServiceId { get; init; }

    public required string PlanId { get; init; }

    public string ParametersJson { get; init; } = "{}";

    public string? AppGuid { get; init; }

    public required string Username { get; init; }

    public required string Password { get; init; }

    /// <summary>Bearer token that lets the binding's holder use Steward's API for this instance only.</summary>
    public string? ApiToken { get; init; }

    public required BindingState State { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Not printed: the record holds a password.</summary>
    public override string ToString() => $"ServiceBinding {{ Id = {Id}, InstanceId = {InstanceId}, State = {State} }}";
}

namespace Steward.Supervision;

/// <summary>
/// A durable record of one failure of one instance: what happened (timeline), why (class and evidence),
/// what the supervisor did (actions), and where the preserved files are.
/// </summary>
public sealed record Incident
{
    public required string Id { get; init; }

    public required string InstanceId { get; init; }

    public required FailureClass Class { get; init; }

    public required IncidentState State { get; init; }

    /// <summary>One sentence: what failed and what was done.</summary>
    public required string Summary { get; init; }

    /// <summary>Exit status, log lines, configuration changes, environment facts.</summary>
    public IReadOnlyDictionary<string, object?> Evidence { get; init; } = new Dictionary<string, object?>();

    public IReadOnlyList<IncidentEvent> Timeline { get; init; } = [];

    /// <summary>Restarts the supervisor made for this incident.</summary>
    public int Restarts { get; init; }

    /// <summary>The instance directory kept for inspection, once quarantined.</summary>
    public string? PreservedPath { get; init; }

    public required DateTimeOffset OpenedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public Incident With(DateTimeOffset at, string kind, string detail) =>
        this with { Timeline = [.. Timeline, new IncidentEvent(at, kind, detail)], UpdatedAt = at };
}

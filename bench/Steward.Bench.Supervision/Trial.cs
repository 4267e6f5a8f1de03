namespace Steward.Bench.Supervision;

/// <summary>What one injected failure produced, from the broker's incident and the benchmark's own clock.</summary>
internal sealed record Trial
{
    public required Scenario Scenario { get; init; }

    public required Policy Policy { get; init; }

    public required int Index { get; init; }

    /// <summary>Set when the trial could not be carried out or no outcome came within the deadline.</summary>
    public string? Error { get; init; }

    public DateTimeOffset InjectedAt { get; init; }

    /// <summary>The incident's opened_at: when the supervisor detected the failure.</summary>
    public DateTimeOffset? OpenedAt { get; init; }

    /// <summary>When the benchmark's poll of /api/v1/incidents first returned the incident.</summary>
    public DateTimeOffset? SeenAt { get; init; }

    /// <summary>The class the incident had when first seen.</summary>
    public string? FirstClass { get; init; }

    public string? FinalClass { get; init; }

    public string? FinalState { get; init; }

    public int Restarts { get; init; }

    /// <summary>The time of the incident's resolved/quarantined timeline event.</summary>
    public DateTimeOffset? OutcomeAt { get; init; }

    /// <summary>The first "restarted" timeline event: the supervisor started the server again.</summary>
    public DateTimeOffset? RestartedAt { get; init; }

    /// <summary>The first "healthy" timeline event: the restarted server answered its check, the service is back.</summary>
    public DateTimeOffset? HealthyAgainAt { get; init; }

    /// <summary>The first "classified" timeline event naming the expected class.</summary>
    public DateTimeOffset? CorrectlyClassifiedAt { get; init; }

    /// <summary>Incidents the instance had at the end; one failure should make exactly one.</summary>
    public int Incidents { get; init; }

    /// <summary>Consecutive failed checks the incident reports (hangs only).</summary>
    public int? FailedChecks { get; init; }

    public string? Summary { get; init; }

    public TimeSpan? Detection => OpenedAt - InjectedAt;

    public TimeSpan? Visible => SeenAt - InjectedAt;

    public TimeSpan? ToOutcome => OutcomeAt - InjectedAt;

    public TimeSpan? ToHealthyAgain => HealthyAgainAt - InjectedAt;

    /// <summary>From the first restart to the first successful check of the restarted server.</summary>
    public TimeSpan? RestartToHealthy => HealthyAgainAt - RestartedAt;

    public TimeSpan? ToCorrectClass => CorrectlyClassifiedAt - InjectedAt;

    public bool ClassCorrect => Error is null && FinalClass == Scenario.ExpectedClass;

    public bool OutcomeCorrect => Error is null && FinalState == Scenario.ExpectedState && Restarts == Scenario.ExpectedRestarts(Policy);

    public bool OverBound => Detection > Scenario.DetectionBound(Policy);
}

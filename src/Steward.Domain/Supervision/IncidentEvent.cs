namespace Steward.Supervision;

/// <summary>One entry of an incident's timeline.</summary>
public sealed record IncidentEvent(DateTimeOffset At, string Kind, string Detail);

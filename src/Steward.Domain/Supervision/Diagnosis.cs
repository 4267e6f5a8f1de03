namespace Steward.Supervision;

/// <summary>A failure class with the line of evidence that established it.</summary>
public sealed record Diagnosis(FailureClass Class, string Evidence);

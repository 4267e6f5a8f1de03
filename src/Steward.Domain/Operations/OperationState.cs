namespace Steward.Operations;

/// <summary>OSB operation states.</summary>
public enum OperationState
{
    InProgress,
    Succeeded,
    Failed,
}

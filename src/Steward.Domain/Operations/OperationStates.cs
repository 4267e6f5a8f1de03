namespace Steward.Operations;

/// <summary>Operation states as the OSB spec writes them.</summary>
public static class OperationStates
{
    /// <summary>"in progress", "succeeded" or "failed".</summary>
    public static string OsbName(this OperationState state) => state switch
    {
        OperationState.InProgress => "in progress",
        OperationState.Succeeded => "succeeded",
        _ => "failed",
    };
}

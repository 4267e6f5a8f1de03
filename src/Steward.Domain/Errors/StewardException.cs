namespace Steward.Errors;

/// <summary>
/// The single exception type of the domain. It carries a machine-readable <see cref="ErrorCode"/> and a
/// description that is safe to show to a client: it never contains credentials.
/// </summary>
public sealed class StewardException : Exception
{
    public StewardException(ErrorCode code, string description, Exception? inner = null)
        : base(description, inner)
    {
        Code = code;
    }

    /// <summary>What kind of failure this is.</summary>
    public ErrorCode Code { get; }

    /// <summary>For failed instance operations: whether the instance still serves its clients.</summary>
    public bool? InstanceUsable { get; init; }

    /// <summary>For failed updates: whether repeating the update may succeed.</summary>
    public bool? UpdateRepeatable { get; init; }

    public static StewardException BadRequest(string description) => new(ErrorCode.BadRequest, description);

    public static StewardException NotFound(string description) => new(ErrorCode.NotFound, description);

    public static StewardException Concurrency(string description) => new(ErrorCode.ConcurrencyError, description);
}

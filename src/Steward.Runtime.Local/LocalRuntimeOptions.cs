namespace Steward.Runtime.Local;

/// <summary>Settings of the local process runtime.</summary>
public sealed record LocalRuntimeOptions
{
    /// <summary>Directory holding one sub-directory per instance.</summary>
    public required string InstancesRoot { get; init; }

    /// <summary>System user instances run as when Steward is root.</summary>
    public string ServiceUser { get; init; } = "steward";
}

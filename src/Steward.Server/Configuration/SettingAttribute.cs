namespace Steward.Server.Configuration;

/// <summary>
/// Marks an options property as a documented setting: its environment variable, what it does, and (when the
/// property's own default or validation attributes do not say it well) its default and allowed values in words.
/// The command-line switch is the variable's name without STEWARD_, lower case, with dashes; secrets have none,
/// since every local user reads command lines.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
internal sealed class SettingAttribute(string environmentVariable, string description) : Attribute
{
    public string EnvironmentVariable { get; } = environmentVariable;

    public string Description { get; } = description;

    /// <summary>The default in words, when the property's initial value is not what a reader needs.</summary>
    public string? Default { get; init; }

    /// <summary>The allowed values in words, when neither the type nor a validation attribute says it.</summary>
    public string? Allowed { get; init; }

    /// <summary>Never echoed in errors and never taken from the command line.</summary>
    public bool Secret { get; init; }
}

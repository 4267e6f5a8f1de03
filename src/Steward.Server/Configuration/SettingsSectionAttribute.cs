namespace Steward.Server.Configuration;

/// <summary>
/// Marks an options type whose <see cref="SettingAttribute"/> properties are bound from one configuration
/// section (the empty name is the root of the configuration file).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class SettingsSectionAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

using System.Reflection;

namespace Steward.Server.Configuration;

/// <summary>
/// Every setting of the broker, found by reflection over the options types marked with
/// <see cref="SettingsSectionAttribute"/>: the single source for the environment and command-line names,
/// validation messages and the table in docs/configuration.md.
/// </summary>
internal static class SettingsCatalog
{
    /// <summary>The options types, the root section first.</summary>
    public static IReadOnlyList<Type> Types { get; } = typeof(SettingsCatalog).Assembly.GetTypes()
        .Where(t => t.GetCustomAttribute<SettingsSectionAttribute>() is not null)
        .OrderBy(t => t.GetCustomAttribute<SettingsSectionAttribute>()!.Name, StringComparer.Ordinal)
        .ToList();

    public static IReadOnlyList<Setting> All { get; } = Types.SelectMany(For).ToList();

    public static string SectionOf(Type options) =>
        options.GetCustomAttribute<SettingsSectionAttribute>()?.Name
        ?? throw new InvalidOperationException($"{options.Name} has no [SettingsSection]");

    public static IEnumerable<Setting> For(Type options)
    {
        var section = SectionOf(options);
        return options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .OrderBy(p => p.MetadataToken)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<SettingAttribute>()))
            .Where(p => p.Attribute is not null)
            .Select(p => new Setting(options, p.Property, p.Attribute!, section.Length == 0 ? p.Property.Name : $"{section}:{p.Property.Name}"));
    }

    /// <summary>The settings table of docs/configuration.md, one row per setting.</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string>
        {
            "| Environment variable | Command line | Config file key | Default | Allowed | Meaning |",
            "|---|---|---|---|---|---|",
        };
        lines.AddRange(All.Select(s =>
            $"| `{s.EnvironmentVariable}` | {(s.Switch is { } sw ? $"`{sw}`" : "— (secret)")} | `{s.Key}` | {Cell(s.Default)} | {Cell(s.Allowed)} | {Cell(s.Description)} |"));
        return string.Join('\n', lines) + "\n";
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}

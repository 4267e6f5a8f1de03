using System.Reflection;
using Steward.Backup.Tests.Infrastructure;
using Steward.Server.Configuration;

namespace Steward.Server.Tests.Configuration;

/// <summary>
/// docs/configuration.md is generated from the options types: every setting is in the table and every row is
/// a setting. After adding a setting, regenerate with STEWARD_UPDATE_DOCS=1 and this test's filter.
/// </summary>
public sealed class SettingsTableTests
{
    private const string Begin = "<!-- settings table: generated from the options types by SettingsTableTests -->";
    private const string End = "<!-- end of settings table -->";

    [Fact]
    public void The_settings_table_in_docs_lists_exactly_the_settings_of_the_options_types()
    {
        var file = Path.Combine(RepositoryRoot.Path, "docs", "configuration.md");
        var text = File.ReadAllText(file);
        var start = text.IndexOf(Begin, StringComparison.Ordinal);
        var end = text.IndexOf(End, StringComparison.Ordinal);
        (start >= 0 && end > start).ShouldBeTrue($"{file} has no settings table between the markers");
        var documented = text[(start + Begin.Length)..end].Trim() + "\n";
        var generated = SettingsCatalog.MarkdownTable();
        if (documented != generated && Environment.GetEnvironmentVariable("STEWARD_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(file, text[..(start + Begin.Length)] + "\n" + generated + text[end..]);
            return;
        }

        var rows = Rows(documented);
        var expected = Rows(generated);
        rows.Keys.Except(expected.Keys).ShouldBeEmpty("rows in docs/configuration.md for settings no options type has");
        expected.Keys.Except(rows.Keys).ShouldBeEmpty("settings missing from docs/configuration.md (regenerate with STEWARD_UPDATE_DOCS=1)");
        foreach (var (name, row) in expected)
        {
            rows[name].ShouldBe(row, $"the documented row of {name} is out of date (regenerate with STEWARD_UPDATE_DOCS=1)");
        }
    }

    [Fact]
    public void Every_settable_property_of_an_options_type_is_a_documented_setting_with_unique_names()
    {
        SettingsCatalog.Types.ShouldContain(typeof(StewardOptions));
        SettingsCatalog.Types.ShouldContain(typeof(SupervisionOverrides));
        foreach (var type in SettingsCatalog.Types)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                var nestedSection = property.PropertyType.GetCustomAttribute<SettingsSectionAttribute>() is not null;
                (property.GetCustomAttribute<SettingAttribute>() is not null || nestedSection)
                    .ShouldBeTrue($"{type.Name}.{property.Name} can be bound but is not a [Setting], so it would be undocumented");
            }
        }

        var all = SettingsCatalog.All;
        all.Select(s => s.EnvironmentVariable).ShouldAllBe(e => e.StartsWith("STEWARD_"));
        all.Select(s => s.EnvironmentVariable).ShouldBeUnique();
        all.Select(s => s.Key.ToUpperInvariant()).ShouldBeUnique();
        all.Where(s => s.Switch is not null).Select(s => s.Switch).ShouldBeUnique();
        all.Where(s => s.Secret).Select(s => s.Switch).ShouldAllBe(s => s == null, "secrets are never taken from a command line every local user can read");
        new[] { "--data-dir", "--listen", "--port-range", "--service-user", "--config" }.ShouldBeSubsetOf(all.Select(s => s.Switch));
    }

    private static Dictionary<string, string> Rows(string table) => table
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Where(l => l.StartsWith("| `STEWARD_", StringComparison.Ordinal))
        .ToDictionary(l => l.Split('`')[1], l => l.Trim());
}

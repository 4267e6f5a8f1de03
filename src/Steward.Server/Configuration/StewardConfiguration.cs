using System.Collections;

namespace Steward.Server.Configuration;

/// <summary>
/// Builds the broker's configuration from, lowest precedence first: an optional JSON file
/// (<c>--config</c> or STEWARD_CONFIG), the STEWARD_* environment variables, and the command line. Only
/// documented settings are read: an unknown command-line option or file key is a problem, not a silent no-op.
/// </summary>
internal static class StewardConfiguration
{
    /// <summary>The configuration, or the problems that stop the broker before anything starts.</summary>
    public static (IConfigurationRoot Configuration, IReadOnlyList<string> Problems) Load(string[] args, IDictionary environment)
    {
        var problems = new List<string>();
        var switches = SettingsCatalog.All.Where(s => s.Switch is not null).ToDictionary(s => s.Switch!, s => s, StringComparer.Ordinal);
        var fromArgs = ReadArguments(args, switches, problems);

        var fromEnvironment = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in SettingsCatalog.All)
        {
            if (environment[setting.EnvironmentVariable] is string { Length: > 0 } value)
            {
                fromEnvironment[setting.Key] = value;
            }
        }

        var builder = new ConfigurationBuilder();
        var file = fromArgs.GetValueOrDefault(ConfigFileKey) ?? fromEnvironment.GetValueOrDefault(ConfigFileKey);
        if (file is not null && ReadFile(file, problems) is { } fullPath)
        {
            builder.AddJsonFile(fullPath, optional: false, reloadOnChange: false);
        }

        var configuration = builder.AddInMemoryCollection(fromEnvironment).AddInMemoryCollection(fromArgs).Build();
        return (configuration, problems);
    }

    private static string ConfigFileKey => nameof(StewardOptions.ConfigFile);

    private static Dictionary<string, string?> ReadArguments(string[] args, Dictionary<string, Setting> switches, List<string> problems)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[..equals] : arg;
            if (!switches.TryGetValue(name, out var setting))
            {
                problems.Add(arg.StartsWith("--", StringComparison.Ordinal)
                    ? $"unknown option {name}; the options are {string.Join(", ", switches.Keys.Order(StringComparer.Ordinal))} (see docs/configuration.md)"
                    : $"unexpected argument '{arg}'; options are given as --name value");
                continue;
            }

            if (equals > 0)
            {
                values[setting.Key] = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Length)
            {
                values[setting.Key] = args[++i];
            }
            else
            {
                problems.Add($"{name} needs a value; allowed: {setting.Allowed}");
            }
        }

        return values;
    }

    /// <summary>Checks that the file exists, is JSON, and names only known settings; its full path when it does.</summary>
    private static string? ReadFile(string path, List<string> problems)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            problems.Add($"STEWARD_CONFIG (--config) = '{path}': no such file; allowed: the path of a JSON settings file");
            return null;
        }

        IConfigurationRoot alone;
        try
        {
            alone = new ConfigurationBuilder().AddJsonFile(fullPath, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"STEWARD_CONFIG (--config) = '{path}': {(ex.InnerException ?? ex).Message.TrimEnd('.')}; allowed: a JSON object of settings");
            return null;
        }

        var known = SettingsCatalog.All.Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var before = problems.Count;
        foreach (var (key, value) in alone.AsEnumerable().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is not null && !known.Contains(key))
            {
                problems.Add($"{path}: unknown setting '{key}'; the keys are listed in docs/configuration.md");
            }
        }

        return problems.Count == before ? fullPath : null;
    }
}

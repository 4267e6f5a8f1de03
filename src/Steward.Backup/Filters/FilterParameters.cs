using System.Globalization;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters;

/// <summary>Reads typed values from recorded filter parameters.</summary>
internal static class FilterParameters
{
    public static int GetInt(IReadOnlyDictionary<string, string> parameters, string filter, string name, int fallback)
    {
        if (!parameters.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new BackupException("filter_parameters_invalid", $"Filter '{filter}' has an invalid '{name}' parameter.");
    }

    public static string Require(IReadOnlyDictionary<string, string> parameters, string filter, string name) =>
        parameters.TryGetValue(name, out var text) && !string.IsNullOrWhiteSpace(text)
            ? text
            : throw new BackupException("filter_parameters_invalid", $"Filter '{filter}' lacks its '{name}' parameter.");
}

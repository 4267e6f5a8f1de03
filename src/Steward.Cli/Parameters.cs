using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Steward.Cli;

/// <summary>Turns repeated <c>--param key=value</c> options into a JSON object: integers and true/false keep their type.</summary>
internal static class Parameters
{
    public static JsonObject? Parse(string[]? pairs)
    {
        if (pairs is null || pairs.Length == 0)
        {
            return null;
        }

        var result = new JsonObject();
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliException(ExitCodes.Usage, $"--param '{pair}' is not key=value");
            }

            var key = pair[..eq];
            var value = pair[(eq + 1)..];
            result[key] = value switch
            {
                "true" => true,
                "false" => false,
                _ when long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
                _ => value,
            };
        }

        return result;
    }

    public static string Pretty(JsonElement element) => JsonSerializer.Serialize(element, PrettyOptions);

    private static readonly JsonSerializerOptions PrettyOptions = new() { WriteIndented = true };
}

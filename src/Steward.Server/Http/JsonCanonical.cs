using System.Text.Json;
using System.Text.Json.Nodes;

namespace Steward.Server.Http;

/// <summary>Canonical JSON text (object keys sorted, no white space), so "the same parameters" compares as text.</summary>
internal static class JsonCanonical
{
    public static string Normalize(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return "{}";
        }

        return Sort(JsonNode.Parse(json))?.ToJsonString() ?? "{}";
    }

    /// <summary>Merges <paramref name="update"/> over <paramref name="current"/> (top-level keys) and normalizes.</summary>
    public static string Merge(string current, string? update)
    {
        var merged = JsonNode.Parse(current)!.AsObject();
        if (!string.IsNullOrWhiteSpace(update))
        {
            foreach (var (key, value) in JsonNode.Parse(update)!.AsObject())
            {
                merged[key] = value?.DeepClone();
            }
        }

        return Normalize(merged.ToJsonString());
    }

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value?.DeepClone())))),
        JsonArray a => new JsonArray(a.Select(x => Sort(x?.DeepClone())).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>Parses a parameters document for schema validation.</summary>
    public static JsonElement? Element(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : JsonDocument.Parse(json).RootElement.Clone();
}

using System.Text.Json;

namespace Steward.Catalog;

/// <summary>Typed reads of a parameters object that has already passed its <see cref="ParameterSchema"/>.</summary>
public sealed class ParameterValues
{
    private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);

    public ParameterValues(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return;
        }

        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var p in doc.RootElement.EnumerateObject())
        {
            _values[p.Name] = p.Value.Clone();
        }
    }

    public long? Integer(string name) => _values.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    public bool? Boolean(string name) => _values.TryGetValue(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    public string? String(string name) => _values.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

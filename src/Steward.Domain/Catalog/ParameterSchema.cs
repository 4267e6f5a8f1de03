using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Steward.Catalog;

/// <summary>
/// A parameters schema that is both published in the catalog (as JSON Schema draft-04) and enforced on
/// requests, so what the catalog promises and what the broker accepts cannot drift apart.
/// Objects are closed: unknown parameters are refused.
/// </summary>
public sealed record ParameterSchema(IReadOnlyDictionary<string, ParameterProperty> Properties)
{
    /// <summary>A schema that accepts only an empty object.</summary>
    public static ParameterSchema Empty { get; } = new(new Dictionary<string, ParameterProperty>());

    /// <summary>The JSON Schema document for the catalog.</summary>
    public JsonObject ToJsonSchema()
    {
        var props = new JsonObject();
        foreach (var (name, p) in Properties)
        {
            var node = new JsonObject
            {
                ["type"] = p.Type.ToString().ToLowerInvariant(),
                ["description"] = p.Description,
            };
            if (p.Minimum is { } min)
            {
                node["minimum"] = min;
            }

            if (p.Maximum is { } max)
            {
                node["maximum"] = max;
            }

            if (p.MaxLength is { } len)
            {
                node["maxLength"] = len;
            }

            if (p.Enum is { } values)
            {
                node["enum"] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            }

            props[name] = node;
        }

        return new JsonObject
        {
            ["$schema"] = "http://json-schema.org/draft-04/schema#",
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["properties"] = props,
        };
    }

    /// <summary>Every way <paramref name="parameters"/> breaks the schema; empty when it conforms.</summary>
    public IReadOnlyList<string> Validate(JsonElement? parameters)
    {
        var errors = new List<string>();
        if (parameters is not { } root || root.ValueKind == JsonValueKind.Null)
        {
            return errors;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("parameters must be a JSON object");
            return errors;
        }

        foreach (var member in root.EnumerateObject())
        {
            if (!Properties.TryGetValue(member.Name, out var prop))
            {
                var allowed = Properties.Count == 0 ? "none are accepted" : "accepted: " + string.Join(", ", Properties.Keys);
                errors.Add($"unknown parameter '{member.Name}' ({allowed})");
                continue;
            }

            var problem = Check(prop, member.Value);
            if (problem is not null)
            {
                errors.Add($"parameter '{member.Name}' {problem}");
            }
        }

        return errors;
    }

    private static string? Check(ParameterProperty prop, JsonElement value)
    {
        switch (prop.Type)
        {
            case ParameterType.Boolean:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be a boolean";
            case ParameterType.Integer:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n))
                {
                    return "must be an integer";
                }

                if (prop.Minimum is { } min && n < min)
                {
                    return $"must be at least {min.ToString(CultureInfo.InvariantCulture)}";
                }

                if (prop.Maximum is { } max && n > max)
                {
                    return $"must be at most {max.ToString(CultureInfo.InvariantCulture)}";
                }

                return null;
            default:
                if (value.ValueKind != JsonValueKind.String)
                {
                    return "must be a string";
                }

                var s = value.GetString()!;
                if (prop.MaxLength is { } len && s.Length > len)
                {
                    return $"must be at most {len} characters";
                }

                if (prop.Enum is { } values && !values.Contains(s, StringComparer.Ordinal))
                {
                    return "must be one of: " + string.Join(", ", values);
                }

                return null;
        }
    }
}

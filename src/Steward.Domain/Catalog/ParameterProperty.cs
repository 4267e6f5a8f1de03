namespace Steward.Catalog;

/// <summary>One accepted parameter: a JSON type with optional bounds. The subset of JSON Schema Steward publishes and enforces.</summary>
public sealed record ParameterProperty(ParameterType Type, string Description)
{
    public long? Minimum { get; init; }

    public long? Maximum { get; init; }

    public IReadOnlyList<string>? Enum { get; init; }

    public int? MaxLength { get; init; }
}

/// <summary>JSON types a parameter may have.</summary>
public enum ParameterType
{
    Integer,
    String,
    Boolean,
}

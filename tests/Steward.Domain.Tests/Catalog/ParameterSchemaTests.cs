using System.Text.Json;
using Steward.Catalog;

namespace Steward.Domain.Tests.Catalog;

public sealed class ParameterSchemaTests
{
    private static readonly ParameterSchema Schema = new(new Dictionary<string, ParameterProperty>
    {
        ["max_connections"] = new(ParameterType.Integer, "connections") { Minimum = 10, Maximum = 100 },
        ["policy"] = new(ParameterType.String, "policy") { Enum = ["a", "b"] },
        ["name"] = new(ParameterType.String, "name") { MaxLength = 5 },
        ["read_only"] = new(ParameterType.Boolean, "ro"),
    });

    private static JsonElement Json(string s) => JsonDocument.Parse(s).RootElement;

    [Fact]
    public void Conforming_parameters_produce_no_errors()
    {
        Schema.Validate(Json("""{"max_connections": 10, "policy": "b", "name": "abcde", "read_only": false}""")).ShouldBeEmpty();
        Schema.Validate(null).ShouldBeEmpty();
        Schema.Validate(Json("{}")).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"max_connections": 9}""", "parameter 'max_connections' must be at least 10")]
    [InlineData("""{"max_connections": 101}""", "parameter 'max_connections' must be at most 100")]
    [InlineData("""{"max_connections": 10.5}""", "parameter 'max_connections' must be an integer")]
    [InlineData("""{"max_connections": "10"}""", "parameter 'max_connections' must be an integer")]
    [InlineData("""{"policy": "c"}""", "parameter 'policy' must be one of: a, b")]
    [InlineData("""{"name": "abcdef"}""", "parameter 'name' must be at most 5 characters")]
    [InlineData("""{"read_only": "yes"}""", "parameter 'read_only' must be a boolean")]
    [InlineData("""{"shared_buffers": 1}""", "unknown parameter 'shared_buffers' (accepted: max_connections, policy, name, read_only)")]
    [InlineData("""[1]""", "parameters must be a JSON object")]
    public void Each_violation_is_reported_with_the_parameter_and_the_rule(string json, string expected)
    {
        Schema.Validate(Json(json)).ShouldBe([expected]);
    }

    [Fact]
    public void Every_violation_is_reported_not_only_the_first()
    {
        Schema.Validate(Json("""{"max_connections": 1, "policy": "z"}""")).Count.ShouldBe(2);
    }

    [Fact]
    public void An_empty_schema_refuses_any_parameter()
    {
        ParameterSchema.Empty.Validate(Json("""{"x": 1}""")).ShouldBe(["unknown parameter 'x' (none are accepted)"]);
    }

    [Fact]
    public void The_published_JSON_Schema_is_closed_and_carries_the_bounds()
    {
        var doc = Schema.ToJsonSchema();
        doc["$schema"]!.GetValue<string>().ShouldBe("http://json-schema.org/draft-04/schema#");
        doc["type"]!.GetValue<string>().ShouldBe("object");
        doc["additionalProperties"]!.GetValue<bool>().ShouldBeFalse();
        var max = doc["properties"]!["max_connections"]!;
        max["type"]!.GetValue<string>().ShouldBe("integer");
        max["minimum"]!.GetValue<long>().ShouldBe(10);
        max["maximum"]!.GetValue<long>().ShouldBe(100);
        doc["properties"]!["policy"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["a", "b"]);
    }

    [Fact]
    public void Parameter_values_read_back_typed()
    {
        var values = new ParameterValues("""{"n": 5, "b": true, "s": "x"}""");
        values.Integer("n").ShouldBe(5);
        values.Boolean("b").ShouldBe(true);
        values.String("s").ShouldBe("x");
        values.Integer("missing").ShouldBeNull();
        values.Integer("s").ShouldBeNull();
    }
}

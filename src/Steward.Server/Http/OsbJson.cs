using System.Text.Json;
using System.Text.Json.Serialization;

namespace Steward.Server.Http;

/// <summary>JSON settings of every response body: snake_case names as the OSB spec writes them, nulls left out.</summary>
internal static class OsbJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>A JSON response with the OSB serializer settings.</summary>
    public static IResult Result(object body, int status = StatusCodes.Status200OK) => Results.Json(body, Options, statusCode: status);

    /// <summary>The empty object the spec returns for many successes.</summary>
    public static IResult Empty(int status = StatusCodes.Status200OK) => Results.Json(new Dictionary<string, object>(), Options, statusCode: status);
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Steward.Server.Tests.Infrastructure;

/// <summary>An HTTP reply with its JSON body parsed.</summary>
public sealed record Reply(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers, string Text)
{
    public static async Task<Reply> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new Reply(response.StatusCode, body, response.Headers, text);
    }

    /// <summary>A string property of the body, or null.</summary>
    public string? Str(string name) =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>The OSB error field.</summary>
    public string? Error => Str("error");

    public override string ToString() => $"{(int)Status} {Text}";
}

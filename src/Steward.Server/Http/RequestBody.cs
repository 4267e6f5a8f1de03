using System.Text.Json;
using Steward.Errors;

namespace Steward.Server.Http;

/// <summary>A request's JSON object with typed field reads that fail with precise 400 errors.</summary>
internal sealed class RequestBody
{
    private readonly JsonElement _root;

    private RequestBody(JsonElement root) => _root = root;

    /// <summary>Reads and parses the body, refusing oversized, empty, malformed and non-object bodies.</summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw new StewardException(ErrorCode.PayloadTooLarge, $"request body is larger than {maxBytes} bytes");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new StewardException(ErrorCode.PayloadTooLarge, $"request body is larger than {maxBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            throw StewardException.BadRequest("request body must be a JSON object");
        }

        try
        {
            using var doc = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw StewardException.BadRequest("request body must be a JSON object");
            }

            return new RequestBody(doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw StewardException.BadRequest($"request body is not valid JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine})");
        }
    }

    public string RequiredString(string name) =>
        OptionalString(name) ?? throw StewardException.BadRequest($"'{name}' is required");

    public string? OptionalString(string name)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            throw StewardException.BadRequest($"'{name}' must be a string");
        }

        var s = v.GetString()!;
        return s.Length == 0 ? throw StewardException.BadRequest($"'{name}' must not be empty") : s;
    }

    /// <summary>An optional object field as its raw JSON text.</summary>
    public string? OptionalObject(string name)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Object ? v.GetRawText() : throw StewardException.BadRequest($"'{name}' must be a JSON object");
    }

    /// <summary>maintenance_info.version, when maintenance_info is given.</summary>
    public string? MaintenanceVersion()
    {
        var raw = OptionalObject("maintenance_info");
        if (raw is null)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(raw);
        return doc.RootElement.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : throw StewardException.BadRequest("'maintenance_info.version' must be a string");
    }
}

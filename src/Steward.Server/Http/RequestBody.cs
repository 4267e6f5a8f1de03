using System.Text.Json;
using Microsoft.Net.Http.Headers;
using Steward.Errors;

namespace Steward.Server.Http;

/// <summary>A request's JSON object with typed field reads that fail with precise 400 errors.</summary>
internal sealed class RequestBody
{
    private readonly JsonElement _root;

    private RequestBody(JsonElement root) => _root = root;

    /// <summary>An object nested in a request (e.g. one of its parameters), read with the same rules.</summary>
    public static RequestBody Of(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object ? new RequestBody(root) : throw StewardException.BadRequest("expected a JSON object");

    /// <summary>
    /// Reads and parses the body, refusing a body that is not JSON (415), and oversized (413), empty, malformed,
    /// non-object, ambiguous (a key given twice) or not valid Unicode (a lone surrogate escape, bytes that are
    /// not UTF-8) bodies (400).
    /// </summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        CheckContentType(request);
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

        if (!System.Text.Unicode.Utf8.IsValid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
        {
            throw StewardException.BadRequest("request body is not valid UTF-8: JSON text must be Unicode encoded as UTF-8");
        }

        try
        {
            using var doc = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw StewardException.BadRequest("request body must be a JSON object");
            }

            CheckUnambiguous(doc.RootElement, "$");
            return new RequestBody(doc.RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw StewardException.BadRequest($"request body is not valid JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine})");
        }
    }

    /// <summary>A body must be declared as JSON: a form, text or XML body is refused before it is read (415).</summary>
    private static void CheckContentType(HttpRequest request)
    {
        var declared = request.ContentType;
        if (string.IsNullOrEmpty(declared))
        {
            if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
            {
                throw new StewardException(ErrorCode.UnsupportedMediaType, "the request body needs the header Content-Type: application/json");
            }

            return;
        }

        if (!MediaTypeHeaderValue.TryParse(declared, out var media)
            || !(media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
            || (media.Charset.HasValue && !media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            throw new StewardException(ErrorCode.UnsupportedMediaType, $"the request body must be JSON (Content-Type: application/json; charset utf-8), not '{declared}'");
        }
    }

    /// <summary>
    /// Every object key appears once and every string (keys included) is valid Unicode: a JSON parser accepts
    /// <c>"\ud800"</c> and invalid UTF-8 inside strings, and which of two equal keys wins differs between readers.
    /// </summary>
    private static void CheckUnambiguous(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var name = ReadString(() => property.Name, path);
                    var at = $"{path}.{name}";
                    if (!names.Add(name))
                    {
                        throw StewardException.BadRequest($"request body gives the key '{at[2..]}' more than once");
                    }

                    CheckUnambiguous(property.Value, at);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    CheckUnambiguous(item, $"{path}[{index++}]");
                }

                break;
            case JsonValueKind.String:
                ReadString(element.GetString, path);
                break;
        }
    }

    private static string ReadString(Func<string?> read, string path)
    {
        try
        {
            var s = read() ?? string.Empty;
            for (var i = 0; i < s.Length; i++)
            {
                // GetString passes escaped lone surrogates (\ud800) through; they are not Unicode text.
                if (char.IsSurrogate(s[i]) && !(char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[++i])))
                {
                    throw StewardException.BadRequest($"request body has a string at {Where(path)} with a lone surrogate escape; strings must be valid Unicode");
                }
            }

            return s;
        }
        catch (InvalidOperationException)
        {
            throw StewardException.BadRequest($"request body has a string at {Where(path)} that is not valid UTF-8 or Unicode");
        }
    }

    private static string Where(string path) => path == "$" ? "the top level" : $"'{path[2..]}'";

    public string RequiredString(string name) =>
        _root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? OptionalString(name)!
            : throw StewardException.BadRequest($"'{name}' is required (a non-empty string)");

    public string? OptionalString(string name)
    {
        if (!_root.TryGetProperty(name, out var v))
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Null)
        {
            throw StewardException.BadRequest($"'{name}' must be a string; leave it out instead of sending null");
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            throw StewardException.BadRequest($"'{name}' must be a string");
        }

        var s = v.GetString()!;
        return s.Length == 0 ? throw StewardException.BadRequest($"'{name}' must not be empty") : s;
    }

    /// <summary>The body's field names, to refuse unknown ones.</summary>
    public IEnumerable<string> FieldNames => _root.EnumerateObject().Select(p => p.Name);

    /// <summary>An optional whole number of at least <paramref name="min"/>.</summary>
    public int? OptionalInt(string name, int min)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= min
            ? n
            : throw StewardException.BadRequest($"'{name}' must be a whole number of at least {min}, not {v.GetRawText()}");
    }

    public bool? OptionalBoolean(string name) =>
        !_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
        : throw StewardException.BadRequest($"'{name}' must be true or false");

    /// <summary>An optional object field as its raw JSON text.</summary>
    public string? OptionalObject(string name)
    {
        if (!_root.TryGetProperty(name, out var v))
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Null)
        {
            throw StewardException.BadRequest($"'{name}' must be a JSON object; leave it out instead of sending null");
        }

        return v.ValueKind == JsonValueKind.Object ? v.GetRawText() : throw StewardException.BadRequest($"'{name}' must be a JSON object");
    }

    /// <summary>Refuses fields Steward does not use but the spec types as objects, when they are not objects.</summary>
    public void CheckObjects(params string[] names)
    {
        foreach (var name in names)
        {
            OptionalObject(name);
        }
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

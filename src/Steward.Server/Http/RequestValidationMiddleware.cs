using Microsoft.AspNetCore.Http.Features;
using Steward.Errors;
using Steward.Security;

namespace Steward.Server.Http;

/// <summary>
/// Refuses ambiguous or hostile requests to the OSB and Steward APIs before any endpoint runs, so that
/// what an endpoint sees is exactly what the client sent:
/// <list type="bullet">
/// <item>the request path as it was sent (not as the server normalized it) has no dot segment (<c>..</c>,
/// <c>%2e%2e</c>, <c>%2E.</c>, …) and no encoded slash or backslash: Kestrel collapses dot segments before
/// routing, so <c>…/service_bindings/%2e%2e</c> would otherwise reach the instance route;</item>
/// <item>every route value that is an id (<c>{instanceId}</c>, <c>{bindingId}</c>, <c>{backupId}</c>, …)
/// passes <see cref="Identifiers"/>, so a new endpoint is validated without having to remember it;</item>
/// <item>no query parameter is given twice (which one would win is a guess), and those that are ids are valid ids;</item>
/// <item><c>X-Broker-API-Request-Identity</c> is printable ASCII (it is echoed on the response).</item>
/// </list>
/// Each refusal is a 400 with an OSB error body; nothing has been read or changed at that point.
/// </summary>
internal sealed class RequestValidationMiddleware(RequestDelegate next)
{
    /// <summary>Query parameters whose value is an id (<c>?operation=</c> of last_operation, <c>?instance=</c> of incidents).</summary>
    private static readonly HashSet<string> IdQueryParameters = new(StringComparer.Ordinal) { "operation", "instance" };

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/v2") || path.StartsWithSegments("/api"))
        {
            CheckRequestIdentity(context.Request);
            CheckRawPath(context);
            CheckQuery(context.Request);
            CheckRouteIds(context);
        }

        return next(context);
    }

    /// <summary>Whether <paramref name="value"/> can be echoed in a response header: visible ASCII and spaces.</summary>
    public static bool IsEchoable(string value) => value.All(c => c is >= ' ' and <= '~');

    private static void CheckRequestIdentity(HttpRequest request)
    {
        foreach (var value in request.Headers["X-Broker-API-Request-Identity"])
        {
            if (value is not null && !IsEchoable(value))
            {
                throw StewardException.BadRequest("X-Broker-API-Request-Identity must be printable ASCII (a request id such as a UUID)");
            }
        }

        if (request.Headers["X-Broker-API-Request-Identity"].Count > 1)
        {
            throw StewardException.BadRequest("X-Broker-API-Request-Identity is given more than once");
        }
    }

    private static void CheckRawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            return;
        }

        // origin-form "/a/b?q" or absolute-form "http://host/a/b?q"; only the path matters.
        var query = raw.IndexOfAny(['?', '#']);
        var target = query >= 0 ? raw[..query] : raw;
        if (!target.StartsWith('/'))
        {
            var scheme = target.IndexOf("://", StringComparison.Ordinal);
            var slash = scheme >= 0 ? target.IndexOf('/', scheme + 3) : -1;
            target = slash >= 0 ? target[slash..] : "/";
        }

        foreach (var segment in target.Split('/'))
        {
            if (segment.Contains('\\')
                || segment.Contains("%2f", StringComparison.OrdinalIgnoreCase)
                || segment.Contains("%5c", StringComparison.OrdinalIgnoreCase))
            {
                throw StewardException.BadRequest($"the request path segment '{segment}' contains an encoded '/' or a '\\'; ids may contain only letters, digits, '-', '_' and '.'");
            }

            if (Uri.UnescapeDataString(segment) is "." or "..")
            {
                throw StewardException.BadRequest($"the request path contains the dot segment '{segment}'; an id must not be '.' or '..'");
            }
        }
    }

    private static void CheckQuery(HttpRequest request)
    {
        foreach (var (name, values) in request.Query)
        {
            if (values.Count > 1)
            {
                throw StewardException.BadRequest($"query parameter '{name}' is given {values.Count} times; give it once");
            }

            if (IdQueryParameters.Contains(name) && Identifiers.Problem(values.ToString()) is { } problem)
            {
                throw StewardException.BadRequest($"query parameter '{name}' {problem}");
            }
        }
    }

    private static void CheckRouteIds(HttpContext context)
    {
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (name.EndsWith("Id", StringComparison.Ordinal) && value is string id && Identifiers.Problem(id) is { } problem)
            {
                throw StewardException.BadRequest($"{SnakeCase(name)} {problem}");
            }
        }
    }

    /// <summary>instanceId → instance_id, as the OSB spec names ids.</summary>
    private static string SnakeCase(string name) => name[..^2] + "_id";
}

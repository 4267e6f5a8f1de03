using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Steward.Errors;
using Steward.Server.Configuration;
using Steward.Server.Logging;
using Steward.Security;
using Steward.State;

namespace Steward.Server.Http;

/// <summary>
/// What every request passes through: the request identity is echoed, basic auth is checked, OSB requests
/// must name an API version Steward speaks, the originating identity must be well formed, and every
/// failure leaves as an OSB error body.
/// </summary>
internal sealed class BrokerMiddleware(RequestDelegate next, BrokerCredentials credentials, IStateStore store, ILogger<BrokerMiddleware> logger)
{
    /// <summary>Oldest OSB minor version accepted (2.13 added the fields Steward relies on).</summary>
    public const int MinimumMinorVersion = 13;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Headers.TryGetValue("X-Broker-API-Request-Identity", out var requestIdentity) && RequestValidationMiddleware.IsEchoable(requestIdentity.ToString()))
        {
            context.Response.Headers["X-Broker-API-Request-Identity"] = requestIdentity;
        }

        try
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments("/api") && await BearerScopeAsync(context) is { } scope)
            {
                ApiScope.Restrict(context, scope);
            }
            else if (path.StartsWithSegments("/v2") || path.StartsWithSegments("/api") || path.StartsWithSegments("/metrics"))
            {
                Authenticate(context);
            }

            if (path.StartsWithSegments("/v2"))
            {
                CheckVersion(context.Request);
                CheckOriginatingIdentity(context.Request);
            }

            await next(context);
        }
        catch (StewardException ex)
        {
            if (ex.Code == ErrorCode.Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"steward\"";
            }

            await OsbErrorBody.From(ex).ExecuteAsync(context);
        }
        catch (BadHttpRequestException ex)
        {
            var code = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? ErrorCode.PayloadTooLarge : ErrorCode.BadRequest;
            await OsbErrorBody.From(new StewardException(code, ex.Message)).ExecuteAsync(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception ex)
        {
            Log.UnhandledRequestFailure(logger, context.Request.Method, context.Request.Path, ex);
            await OsbErrorBody.From(new StewardException(ErrorCode.Internal, "internal error; see the broker log")).ExecuteAsync(context);
        }
    }

    /// <summary>The instance a valid binding API token is scoped to; null when no bearer token was sent.</summary>
    private async Task<string?> BearerScopeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var binding = await store.FindBindingByTokenHashAsync(Secrets.TokenHash(header[7..].Trim()), context.RequestAborted);
        return binding?.InstanceId ?? throw new StewardException(ErrorCode.Unauthorized, "the instance API token is not valid (unknown, or its binding was removed)");
    }

    private void Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (AuthenticationHeaderValue.TryParse(header, out var auth)
            && string.Equals(auth.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            && auth.Parameter is { } encoded)
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && credentials.Matches(pair[..colon], pair[(colon + 1)..]))
                {
                    return;
                }
            }
            catch (FormatException)
            {
                // Falls through to 401 like any other bad credential.
            }
        }

        throw new StewardException(ErrorCode.Unauthorized, "valid broker credentials are required (HTTP basic authentication)");
    }

    private static void CheckVersion(HttpRequest request)
    {
        var value = request.Headers["X-Broker-API-Version"].ToString();
        if (string.IsNullOrEmpty(value))
        {
            throw new StewardException(ErrorCode.PreconditionFailed, "the X-Broker-API-Version header is required; this broker speaks 2.13 to 2.17");
        }

        var parts = value.Split('.');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
        {
            throw new StewardException(ErrorCode.PreconditionFailed, $"X-Broker-API-Version '{value}' is not MAJOR.MINOR; this broker speaks 2.13 to 2.17");
        }

        if (major != 2 || minor < MinimumMinorVersion)
        {
            throw new StewardException(ErrorCode.PreconditionFailed, $"X-Broker-API-Version {value} is not supported; this broker speaks 2.13 to 2.17");
        }
    }

    private static void CheckOriginatingIdentity(HttpRequest request)
    {
        var value = request.Headers["X-Broker-API-Originating-Identity"].ToString();
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            throw StewardException.BadRequest("X-Broker-API-Originating-Identity must be '<platform> <base64-encoded JSON object>'");
        }

        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(Convert.FromBase64String(value[(space + 1)..]));
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw StewardException.BadRequest("X-Broker-API-Originating-Identity must carry a base64-encoded JSON object");
            }
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            throw StewardException.BadRequest("X-Broker-API-Originating-Identity must be '<platform> <base64-encoded JSON object>'");
        }
    }
}

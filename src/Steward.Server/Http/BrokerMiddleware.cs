using System.Globalization;
using Steward.Errors;
using Steward.Server.Logging;

namespace Steward.Server.Http;

/// <summary>
/// What every request passes through: the request identity is echoed, OSB requests must name an API version
/// Steward speaks, the originating identity must be well formed, and every failure leaves as an OSB error
/// body. Who may call what is decided after it, by <see cref="StewardAuthentication"/>.
/// </summary>
internal sealed class BrokerMiddleware(RequestDelegate next, ILogger<BrokerMiddleware> logger)
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
            if (context.Request.Path.StartsWithSegments("/v2"))
            {
                CheckVersion(context.Request);
                CheckOriginatingIdentity(context.Request);
            }

            await next(context);
        }
        catch (StewardException ex)
        {
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

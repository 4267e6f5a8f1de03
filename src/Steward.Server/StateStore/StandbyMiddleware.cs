using Steward.Errors;

namespace Steward.Server.StateStore;

/// <summary>
/// A standby broker answers <c>GET /</c> and <c>GET /readyz</c> (which says it is not ready, so a load balancer or a
/// Kubernetes Service sends the platform to the active one) and refuses everything else with 503 and Retry-After:
/// it holds no running operation, supervisor or scheduler, so it must not accept work it would not do. Requests are
/// refused rather than forwarded: the platform retries OSB calls, and the active broker may be unreachable from here.
/// </summary>
internal sealed class StandbyMiddleware(RequestDelegate next, BrokerRole role)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (role.IsActive || IsAlwaysAnswered(context.Request))
        {
            return next(context);
        }

        context.Response.Headers.RetryAfter = ((int)role.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var active = role.ActiveHolder.Length == 0 ? "no broker holds the lease yet" : $"the active broker is {role.ActiveHolder}";
        throw new StewardException(ErrorCode.ServiceUnavailable, $"this broker is a standby ({active}); retry, or send the request to the active broker");
    }

    private static bool IsAlwaysAnswered(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && (request.Path == "/" || request.Path == "/readyz");
}

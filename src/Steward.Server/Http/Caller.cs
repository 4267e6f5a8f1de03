using System.Security.Claims;
using Steward.Errors;

namespace Steward.Server.Http;

/// <summary>
/// Who is calling Steward's own API: the platform (broker credentials, every instance) or the holder of a
/// binding's API token (that binding's instance only). A handler parameter, bound from the authenticated user.
/// </summary>
internal sealed record Caller(string? InstanceId)
{
    public bool IsBroker => InstanceId is null;

    public bool Sees(string instanceId) => InstanceId is null || InstanceId == instanceId;

    public static Caller From(ClaimsPrincipal user) =>
        user.IsInRole(StewardAuthentication.BrokerRole) ? new Caller((string?)null)
        : user.FindFirstValue(StewardAuthentication.InstanceClaim) is { } instance ? new Caller(instance)
        : throw new StewardException(ErrorCode.Unauthorized, "valid broker credentials are required (HTTP basic authentication)");

    public static ValueTask<Caller?> BindAsync(HttpContext context) => ValueTask.FromResult<Caller?>(From(context.User));
}

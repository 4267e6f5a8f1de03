using Steward.Errors;

namespace Steward.Server.Http;

/// <summary>
/// Who is calling Steward's own API: the platform (broker credentials, every instance) or the holder of a
/// binding's API token (that binding's instance only).
/// </summary>
internal static class ApiScope
{
    private const string Key = "steward.scope";

    public static void Restrict(HttpContext context, string instanceId) => context.Items[Key] = instanceId;

    /// <summary>The one instance the caller may see, or null for the platform.</summary>
    public static string? InstanceOf(HttpContext context) => context.Items.TryGetValue(Key, out var v) ? v as string : null;

    public static bool Allows(HttpContext context, string instanceId) => InstanceOf(context) is not { } scope || scope == instanceId;

    /// <summary>Another instance's resources do not exist for a scoped caller: 404, so ids cannot be probed.</summary>
    public static void Require(HttpContext context, string instanceId, string what)
    {
        if (!Allows(context, instanceId))
        {
            throw StewardException.NotFound($"{what} does not exist");
        }
    }

    /// <summary>Broker-only endpoints refuse scoped callers.</summary>
    public static void RequirePlatform(HttpContext context)
    {
        if (InstanceOf(context) is not null)
        {
            throw new StewardException(ErrorCode.Forbidden, "this endpoint needs the broker's credentials; an instance token reaches its own instance only");
        }
    }
}

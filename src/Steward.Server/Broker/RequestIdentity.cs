namespace Steward.Server.Broker;

/// <summary>The identity headers a platform sends with a request, recorded with the operation it starts.</summary>
internal sealed record RequestIdentity(string? Originating, string? Request)
{
    public static RequestIdentity From(HttpRequest request) => new(
        NullIfEmpty(request.Headers["X-Broker-API-Originating-Identity"].ToString()),
        NullIfEmpty(request.Headers["X-Broker-API-Request-Identity"].ToString()));

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}

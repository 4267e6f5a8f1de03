using Microsoft.Extensions.Options;
using Steward.Server.Configuration;

namespace Steward.Server.Dashboard;

/// <summary>Where browsers reach the dashboard: STEWARD_PUBLIC_URL, or the broker's listen URL.</summary>
internal sealed class DashboardUrls(IOptions<DashboardOptions> options, StewardOptions steward)
{
    public Uri Base { get; } = TryParse(options.Value.PublicUrl ?? steward.Listen)
        ?? throw new InvalidOperationException($"the dashboard's public URL '{options.Value.PublicUrl ?? steward.Listen}' was not validated");

    /// <summary>Browsers reach the broker over TLS: the dashboard's cookies are sent over TLS only.</summary>
    public bool Secure => Base.Scheme == Uri.UriSchemeHttps;

    /// <summary>The dashboard page of an instance.</summary>
    public string Instance(string instanceId) => new Uri(Base, "dashboard/instances/" + Uri.EscapeDataString(instanceId)).ToString();

    /// <summary>A login link for a ticket.</summary>
    public string Login(string ticket) => new Uri(Base, "dashboard/login/" + ticket).ToString();

    /// <summary>The URL with a trailing slash, so relative paths append; null unless absolute http(s).</summary>
    public static Uri? TryParse(string value) =>
        Uri.TryCreate(value.TrimEnd('/') + "/", UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) && url.Host.Length > 0
            ? url
            : null;
}

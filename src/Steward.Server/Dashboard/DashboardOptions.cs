namespace Steward.Server.Dashboard;

/// <summary>
/// Settings of the per-instance dashboard. STEWARD_PUBLIC_URL: the broker's URL as browsers reach it (for
/// <c>dashboard_url</c> and login links); the listen URL by default.
/// </summary>
internal sealed record DashboardOptions
{
    public required Uri PublicUrl { get; init; }

    /// <summary>How long a dashboard session lasts without use.</summary>
    public static readonly TimeSpan SessionIdle = TimeSpan.FromHours(1);

    /// <summary>How long a login link from <c>steward dashboard</c> can be used (once).</summary>
    public TimeSpan LinkLifetime { get; init; } = TimeSpan.FromMinutes(5);

    public static DashboardOptions FromEnvironment(string listen)
    {
        var value = Environment.GetEnvironmentVariable("STEWARD_PUBLIC_URL") ?? listen;
        if (!Uri.TryCreate(value.TrimEnd('/') + "/", UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"STEWARD_PUBLIC_URL '{value}' is not an http(s) URL");
        }

        return new DashboardOptions { PublicUrl = url };
    }

    /// <summary>The dashboard page of an instance.</summary>
    public string InstanceUrl(string instanceId) => new Uri(PublicUrl, "dashboard/instances/" + Uri.EscapeDataString(instanceId)).ToString();
}

using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Dashboard;

/// <summary>The per-instance dashboard (docs/observability.md#the-dashboard).</summary>
[SettingsSection("Dashboard")]
internal sealed record DashboardOptions : IValidatableObject
{
    [Setting("STEWARD_PUBLIC_URL", "the broker's URL as browsers reach it, for `dashboard_url` and login links; an https:// URL also marks the dashboard's cookies Secure", Default = "the `STEWARD_LISTEN` URL", Allowed = "an http:// or https:// URL")]
    public string? PublicUrl { get; init; }

    [Setting("STEWARD_DASHBOARD_SESSION_IDLE_MINUTES", "a dashboard session ends after this long without a request")]
    [Range(1, 7 * 24 * 60)]
    public int SessionIdleMinutes { get; init; } = 60;

    [Setting("STEWARD_DASHBOARD_LINK_SECONDS", "how long a login link from `steward dashboard` can be used (once)")]
    [Range(10, 24 * 3600)]
    public int LinkSeconds { get; init; } = 300;

    public TimeSpan SessionIdle => TimeSpan.FromMinutes(SessionIdleMinutes);

    public TimeSpan LinkLifetime => TimeSpan.FromSeconds(LinkSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicUrl is not null && DashboardUrls.TryParse(PublicUrl) is null)
        {
            yield return new ValidationResult("not an absolute http:// or https:// URL", [nameof(PublicUrl)]);
        }
    }
}

using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Steward.Instances;
using Steward.Server.Configuration;
using Steward.State;

namespace Steward.Server.Dashboard;

/// <summary>
/// The dashboard's own authentication: a cookie scheme whose session is bound to one instance (signed in
/// with that instance's token or a login link), an authorization policy on the dashboard's routes, and
/// antiforgery tokens for its forms. The broker's credentials are never used in a browser.
/// </summary>
internal static class DashboardServiceCollectionExtensions
{
    public const string Scheme = "StewardDashboard";
    public const string Policy = "StewardDashboardSession";
    /// <summary>A dashboard session's instance; deliberately not <see cref="Http.StewardAuthentication.InstanceClaim"/>, so a session is never an API caller.</summary>
    public const string InstanceClaim = "steward:dashboard-instance";
    public const string BindingClaim = "steward:binding";

    public static IServiceCollection AddStewardDashboard(this IServiceCollection services, IConfiguration settings)
    {
        services.AddSettings<DashboardOptions>(settings);
        services.AddSingleton<DashboardUrls>();
        services.AddSingleton<LoginLinks>();

        // Session and antiforgery cookies are protected with keys kept in the data directory, so sessions
        // survive a broker restart; the directory is the broker's alone.
        services.AddDataProtection().SetApplicationName("steward");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(k =>
        {
            var keys = Directory.CreateDirectory(Path.Combine(sp.GetRequiredService<StewardOptions>().DataDir, "dashboard-keys"));
            File.SetUnixFileMode(keys.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            k.XmlRepository = new FileSystemXmlRepository(keys, sp.GetRequiredService<ILoggerFactory>());
        }));

        // A second scheme beside the broker's (StewardAuthentication.Scheme, the default): only the dashboard's
        // policy names it, so its cookie authenticates nothing outside /dashboard, and the broker's scheme
        // (basic credentials, bearer tokens) authenticates nothing inside it.
        services.AddAuthentication().AddCookie(Scheme, c =>
        {
            c.Cookie.Name = "steward_session";
            c.Cookie.Path = "/dashboard";
            c.Cookie.HttpOnly = true;
            c.Cookie.SameSite = SameSiteMode.Strict;
            c.SlidingExpiration = true;
            c.LoginPath = "/dashboard/login";
            c.AccessDeniedPath = "/dashboard/login";
            c.ReturnUrlParameter = "return";
            c.Events.OnValidatePrincipal = ValidateAsync;
        });
        services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<IOptions<DashboardOptions>, DashboardUrls>((c, options, urls) =>
        {
            c.ExpireTimeSpan = options.Value.SessionIdle;
            c.Cookie.SecurePolicy = urls.Secure ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireClaim(InstanceClaim));
        services.AddAntiforgery(a =>
        {
            a.Cookie.Name = "steward_csrf";
            a.Cookie.Path = "/dashboard";
            a.Cookie.SameSite = SameSiteMode.Strict;
            a.FormFieldName = "csrf";
            a.HeaderName = "X-CSRF-Token";
        });
        services.AddOptions<AntiforgeryOptions>().Configure<DashboardUrls>((a, urls) =>
            a.Cookie.SecurePolicy = urls.Secure ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);
        return services;
    }

    public static ClaimsPrincipal Principal(string instanceId, string? bindingId)
    {
        List<Claim> claims = [new(InstanceClaim, instanceId)];
        if (bindingId is not null)
        {
            claims.Add(new Claim(BindingClaim, bindingId));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme));
    }

    /// <summary>A session ends when its instance is gone or the binding whose token opened it was removed.</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var store = context.HttpContext.RequestServices.GetRequiredService<IStateStore>();
        var instanceId = context.Principal?.FindFirstValue(InstanceClaim);
        var bindingId = context.Principal?.FindFirstValue(BindingClaim);
        var ct = context.HttpContext.RequestAborted;
        var valid = instanceId is not null
            && await store.GetInstanceAsync(instanceId, ct) is { State: not InstanceState.Deleted }
            && (bindingId is null || await store.GetBindingAsync(instanceId, bindingId, ct) is { ApiToken: not null });
        if (!valid)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
        }
    }
}

using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace Steward.Server.Http;

/// <summary>
/// Who may call what, declared once: the platform authenticates with the broker's credentials (HTTP basic),
/// a binding's holder with its instance API token (Bearer). Every endpoint needs the broker's credentials
/// unless it says otherwise — the OSB API included; Steward's own API (<c>/api/v1</c>) also admits instance
/// tokens, scoped by <see cref="InstanceScopeFilter"/> to their instance.
/// </summary>
internal static class StewardAuthentication
{
    public const string Scheme = "Steward";

    public const string BrokerRole = "broker";

    public const string InstanceClaim = "steward:instance";

    public const string BrokerPolicy = "broker";

    public static IServiceCollection AddStewardAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, StewardAuthenticationHandler>(Scheme, null);
        var broker = new AuthorizationPolicyBuilder(Scheme).RequireRole(BrokerRole).Build();
        services.AddAuthorizationBuilder()
            .AddPolicy(BrokerPolicy, broker)
            .SetDefaultPolicy(new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build())
            .SetFallbackPolicy(broker);
        return services;
    }

    /// <summary>Steward's own API: any authenticated caller, each endpoint scoped to the caller's instance.</summary>
    public static RouteGroupBuilder MapScopedApi(this IEndpointRouteBuilder app, string prefix) =>
        app.MapGroup(prefix).RequireAuthorization().AddEndpointFilter<InstanceScopeFilter>();

    /// <summary>An endpoint of the scoped API that an instance token may not call at all (403).</summary>
    public static TBuilder RequireBroker<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(BrokerPolicy);

    /// <summary>
    /// An endpoint without an id in its route that an instance token may call because the handler narrows what
    /// it returns to <see cref="Caller.Sees"/> (lists) or returns nothing instance-specific.
    /// </summary>
    public static TBuilder FiltersByCaller<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(FiltersByCallerMetadata.Instance);
}

/// <summary>Marks an endpoint whose handler limits its answer to what the caller sees.</summary>
internal sealed class FiltersByCallerMetadata
{
    public static readonly FiltersByCallerMetadata Instance = new();

    private FiltersByCallerMetadata()
    {
    }
}

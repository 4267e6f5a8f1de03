using Microsoft.Extensions.Options;
using Steward.HighAvailability;
using Steward.Server.Configuration;

namespace Steward.Server.HighAvailability;

/// <summary>Registers high availability: the member store, the controller (a hosted service) and the switchover.</summary>
internal static class HaServiceCollectionExtensions
{
    public static IServiceCollection AddHighAvailability(this IServiceCollection services)
    {
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<HaOptions>>().Value);
        // The store itself (the IStateStore registration may be wrapped, e.g. by event recording); the table is created
        // by the state store's initialization.
        services.AddSingleton<IHaMemberStore>(sp => sp.GetRequiredService<Steward.State.Relational.RelationalStateStore>());
        services.AddSingleton<HaLayout>();
        services.AddSingleton<HaRegistry>();
        services.AddSingleton<HaProxy>();
        services.AddSingleton<HaServices>();

        // HAProxy beside the broker, or the runtime's own routing (Kubernetes Services) where it has one.
        services.AddSingleton<IHaEndpoint>(sp => sp.GetRequiredService<HaLayout>().Places is null ? sp.GetRequiredService<HaProxy>() : sp.GetRequiredService<HaServices>());
        services.AddSingleton<HaArchiving>();
        services.AddSingleton<HaMembers>();
        services.AddSingleton<HaBackups>();
        services.AddSingleton<HaRestore>();
        services.AddSingleton<HaProvisioning>();
        services.AddSingleton<HaConversion>();
        services.AddSingleton<HaFailover>();
        services.AddSingleton<HaController>();
        services.AddHostedService(sp => sp.GetRequiredService<HaController>());
        services.AddSingleton<HaSwitchover>();
        services.AddSingleton<HaParameterChange>();
        services.AddSingleton<HaTopologyView>();
        services.AddSingleton<HaCredentials>();
        return services;
    }
}

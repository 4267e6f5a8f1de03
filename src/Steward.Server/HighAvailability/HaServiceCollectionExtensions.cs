using Steward.HighAvailability;
using Steward.State;

namespace Steward.Server.HighAvailability;

/// <summary>Registers high availability: the member store, the controller (a hosted service) and the switchover.</summary>
internal static class HaServiceCollectionExtensions
{
    public static IServiceCollection AddHighAvailability(this IServiceCollection services)
    {
        services.AddSingleton(HaOptions.FromEnvironment());
        services.AddSingleton(sp => (IHaMemberStore)sp.GetRequiredService<IStateStore>());
        services.AddSingleton<HaLayout>();
        services.AddSingleton<HaRegistry>();
        services.AddSingleton<HaProxy>();
        services.AddSingleton<HaMembers>();
        services.AddSingleton<HaProvisioning>();
        services.AddSingleton<HaFailover>();
        services.AddSingleton<HaController>();
        services.AddHostedService(sp => sp.GetRequiredService<HaController>());
        services.AddSingleton<HaSwitchover>();
        services.AddSingleton<HaTopologyView>();
        services.AddSingleton<HaCredentials>();
        return services;
    }
}

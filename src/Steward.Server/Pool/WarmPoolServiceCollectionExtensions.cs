using Microsoft.Extensions.Configuration;
using Steward.Server.Configuration;
using Steward.State;

namespace Steward.Server.Pool;

/// <summary>Registers the warm pool.</summary>
internal static class WarmPoolServiceCollectionExtensions
{
    public static IServiceCollection AddWarmPool(this IServiceCollection services, IConfiguration settings)
    {
        services.AddSettings<WarmPoolOptions>(settings);
        services.AddSingleton<IPoolStore>(sp => sp.GetRequiredService<Steward.State.Relational.RelationalStateStore>());
        services.AddSingleton<WarmPool>();
        services.AddHostedService(sp => sp.GetRequiredService<WarmPool>());
        return services;
    }

    /// <summary>Registers the pruning of old operations and incidents (docs/state-retention.md).</summary>
    public static IServiceCollection AddHistoryRetention(this IServiceCollection services, IConfiguration settings)
    {
        services.AddSettings<Retention.HistoryRetentionOptions>(settings);
        services.AddSingleton<IStateRetention>(sp => sp.GetRequiredService<Steward.State.Relational.RelationalStateStore>());
        services.AddSingleton<Retention.HistoryPruner>();
        services.AddHostedService(sp => sp.GetRequiredService<Retention.HistoryPruner>());
        return services;
    }
}

using Prometheus;
using Steward.Server.Events;
using Steward.State;

namespace Steward.Server.Metrics;

/// <summary>Registers metrics, the event streams and the state-store observer that feeds both.</summary>
internal static class ObservabilityServiceCollectionExtensions
{
    /// <summary>Call after the <see cref="IStateStore"/> is registered: the store is wrapped so every write is observed.</summary>
    public static IServiceCollection AddStewardObservability(this IServiceCollection services)
    {
        services.AddSingleton<ObservedState>();
        services.AddSingleton<StewardMetrics>();
        services.AddSingleton<EventHub>();
        services.AddSingleton<StateObserver>();
        var original = services.Last(d => d.ServiceType == typeof(IStateStore));
        services.Remove(original);
        services.AddSingleton<IStateStore>(sp => StateStoreProxy.Wrap(Inner(sp, original), sp.GetRequiredService<StateObserver>()));
        return services;
    }

    /// <summary>Loads what the metrics summarise from the store; call once after the store is initialized.</summary>
    public static Task LoadObservedStateAsync(this IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetRequiredService<ObservedState>().LoadAsync(services.GetRequiredService<IStateStore>(), cancellationToken);

    /// <summary>HTTP requests counted by endpoint (the route template, never the raw path), method and status.</summary>
    public static IApplicationBuilder UseStewardHttpMetrics(this IApplicationBuilder app)
    {
        var registry = app.ApplicationServices.GetRequiredService<StewardMetrics>().Registry;
        return app.UseHttpMetrics(o =>
        {
            o.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(registry));
        });
    }

    /// <summary>GET /metrics in the Prometheus text format; the broker middleware requires the broker's credentials.</summary>
    public static IEndpointRouteBuilder MapStewardMetrics(this IEndpointRouteBuilder app)
    {
        app.MapMetrics("/metrics", app.ServiceProvider.GetRequiredService<StewardMetrics>().Registry);
        return app;
    }

    private static IStateStore Inner(IServiceProvider sp, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance as IStateStore
        ?? descriptor.ImplementationFactory?.Invoke(sp) as IStateStore
        ?? (IStateStore)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!);
}

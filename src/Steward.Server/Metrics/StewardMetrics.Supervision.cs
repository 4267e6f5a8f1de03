using Prometheus;
using Steward.Server.Operations;
using Steward.Server.Supervision;

namespace Steward.Server.Metrics;

/// <summary>
/// What the supervision loops cost: their ticks, how often they had to read every instance from the store, and how often
/// the store was asked whether an operation holds an instance.
/// </summary>
internal sealed partial class StewardMetrics
{
    /// <summary>Reads the supervisor's tick count, the instance index's listings and the store's operation lookups when Prometheus scrapes.</summary>
    public void Observe(InstanceIndex index, Supervisor supervisor, OperationsInFlight operations)
    {
        var lookups = Prometheus.Metrics.WithCustomRegistry(Registry).CreateCounter("steward_supervisor_operation_lookups_total", "Times the supervisor asked the state store whether an operation holds an instance (only until the operation runner has taken over the operations left in progress at start; then it answers from memory).");
        var listings = Prometheus.Metrics.WithCustomRegistry(Registry).CreateCounter("steward_state_instance_listings_total", "Times the broker read every instance from the state store for its supervision loops (only after an instance changed, and every 30 s).");
        var ticks = Prometheus.Metrics.WithCustomRegistry(Registry).CreateCounter("steward_supervisor_ticks_total", "Ticks of the supervisor's loop since the broker started.");
        Registry.AddBeforeCollectCallback(() =>
        {
            listings.IncTo(index.Listings);
            ticks.IncTo(supervisor.Ticks);
            lookups.IncTo(operations.StoreLookups);
        });
    }
}

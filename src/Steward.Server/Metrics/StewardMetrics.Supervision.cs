using Prometheus;
using Steward.Server.Operations;
using Steward.Server.Supervision;

namespace Steward.Server.Metrics;

/// <summary>What the supervision loops cost: their ticks and how often they had to read every instance from the store.</summary>
internal sealed partial class StewardMetrics
{
    /// <summary>Reads the supervisor's tick count and the instance index's listings when Prometheus scrapes.</summary>
    public void Observe(InstanceIndex index, Supervisor supervisor)
    {
        var listings = Prometheus.Metrics.WithCustomRegistry(Registry).CreateCounter("steward_state_instance_listings_total", "Times the broker read every instance from the state store for its supervision loops (only after an instance changed, and every 30 s).");
        var ticks = Prometheus.Metrics.WithCustomRegistry(Registry).CreateCounter("steward_supervisor_ticks_total", "Ticks of the supervisor's loop since the broker started.");
        Registry.AddBeforeCollectCallback(() =>
        {
            listings.IncTo(index.Listings);
            ticks.IncTo(supervisor.Ticks);
        });
    }
}

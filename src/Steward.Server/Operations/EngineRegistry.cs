using Steward.Catalog;
using Steward.Engines;
using Steward.Errors;
using Steward.Instances;
using Steward.Runtime;

namespace Steward.Server.Operations;

/// <summary>Finds the engine and plan of a service and builds engine contexts for instances.</summary>
internal sealed class EngineRegistry(IEnumerable<IDataServiceEngine> engines, IInstanceRuntime runtime)
{
    private readonly IReadOnlyList<IDataServiceEngine> _engines = engines.ToList();

    public IReadOnlyList<ServiceOffering> Offerings => _engines.Select(e => e.Offering).ToList();

    public IInstanceRuntime Runtime => runtime;

    /// <summary>The engine of <paramref name="serviceId"/>; 400 when the catalog has no such service.</summary>
    public IDataServiceEngine Engine(string serviceId) =>
        _engines.FirstOrDefault(e => e.Offering.Id == serviceId)
        ?? throw StewardException.BadRequest($"unknown service_id '{serviceId}'; GET /v2/catalog lists the services");

    /// <summary>The plan <paramref name="planId"/> of <paramref name="serviceId"/>; 400 when it does not exist.</summary>
    public ServicePlan Plan(string serviceId, string planId) =>
        Engine(serviceId).Offering.FindPlan(planId)
        ?? throw StewardException.BadRequest($"unknown plan_id '{planId}' for service '{Engine(serviceId).Offering.Name}'");

    public EngineContext Context(ServiceInstance instance) =>
        new(instance, Plan(instance.ServiceId, instance.PlanId), runtime.PathsFor(instance.InternalId), runtime);
}

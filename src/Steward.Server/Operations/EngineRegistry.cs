using Steward.Catalog;
using Steward.Engines;
using Steward.Errors;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Logging;

namespace Steward.Server.Operations;

/// <summary>
/// Finds the engine and plan of a service and builds engine contexts for instances. Only engines that can run
/// on this machine are offered: one whose binaries are missing leaves the catalog with a logged reason, and the
/// others keep working.
/// </summary>
internal sealed class EngineRegistry
{
    private readonly IReadOnlyList<IDataServiceEngine> _engines;
    private readonly IReadOnlyList<IDataServiceEngine> _unavailable;
    private readonly IInstanceRuntime _runtime;

    public EngineRegistry(IEnumerable<IDataServiceEngine> engines, IInstanceRuntime runtime, ILogger<EngineRegistry> logger)
    {
        var all = engines.ToList();
        _engines = all.Where(e => e.Unavailable is null).ToList();
        _unavailable = all.Where(e => e.Unavailable is not null).ToList();
        _runtime = runtime;
        foreach (var engine in _unavailable)
        {
            Log.EngineUnavailable(logger, engine.Offering.Name, engine.Unavailable!);
        }
    }

    public IReadOnlyList<ServiceOffering> Offerings => _engines.Select(e => e.Offering).ToList();

    public IInstanceRuntime Runtime => _runtime;

    /// <summary>Why the engine of <paramref name="serviceId"/> cannot run here; null when it can or no engine has that id.</summary>
    public string? Unavailable(string serviceId) => _unavailable.FirstOrDefault(e => e.Offering.Id == serviceId)?.Unavailable;

    /// <summary>
    /// The catalog entry of an existing instance's service, also when its engine cannot run here, so the
    /// instance can still be listed and described; 400 when no engine has that id.
    /// </summary>
    public ServiceOffering Offering(string serviceId) =>
        (_engines.FirstOrDefault(e => e.Offering.Id == serviceId) ?? _unavailable.FirstOrDefault(e => e.Offering.Id == serviceId))?.Offering
        ?? throw StewardException.BadRequest($"unknown service_id '{serviceId}'; GET /v2/catalog lists the services");

    /// <summary>The engine of <paramref name="serviceId"/>; 400 when the catalog has no such service.</summary>
    public IDataServiceEngine Engine(string serviceId) =>
        _engines.FirstOrDefault(e => e.Offering.Id == serviceId)
        ?? (_unavailable.FirstOrDefault(e => e.Offering.Id == serviceId) is { } missing
            ? throw StewardException.BadRequest($"service '{missing.Offering.Name}' (service_id '{serviceId}') is not available on this broker: {missing.Unavailable}")
            : throw StewardException.BadRequest($"unknown service_id '{serviceId}'; GET /v2/catalog lists the services"));

    /// <summary>The plan <paramref name="planId"/> of <paramref name="serviceId"/>; 400 when it does not exist.</summary>
    public ServicePlan Plan(string serviceId, string planId) =>
        Engine(serviceId).Offering.FindPlan(planId)
        ?? throw StewardException.BadRequest($"unknown plan_id '{planId}' for service '{Engine(serviceId).Offering.Name}'");

    /// <summary>
    /// True when the instance's plan runs members (a primary and standbys); read from the catalog entry, so it
    /// also answers for an instance whose engine cannot run here.
    /// </summary>
    public bool HighlyAvailable(ServiceInstance instance) => Offering(instance.ServiceId).FindPlan(instance.PlanId)?.HighlyAvailable ?? false;

    public EngineContext Context(ServiceInstance instance) =>
        new(instance, Plan(instance.ServiceId, instance.PlanId), _runtime.PathsFor(instance.InternalId), _runtime);
}

using Steward.Catalog;
using Steward.Instances;
using Steward.Runtime;

namespace Steward.Engines;

/// <summary>Everything an engine needs to act on one instance.</summary>
public sealed record EngineContext(ServiceInstance Instance, ServicePlan Plan, InstancePaths Paths, IInstanceRuntime Runtime)
{
    /// <summary>
    /// The address clients connect to: loopback for the local runtime (Steward never exposes those instances beyond
    /// it), the instance's Service on Kubernetes.
    /// </summary>
    public string Host => Runtime.ClientHost(Paths);

    /// <summary>The instance's port; an engine is only called once a port is allocated.</summary>
    public int Port => Instance.Port ?? throw new InvalidOperationException("instance has no port allocated");

    /// <summary>What a runtime that gives each instance a place of its own (a pod) must know: the port and the plan's limits.</summary>
    public InstanceShape Shape => new(Port, Plan.Limits);
}

using Steward.Catalog;
using Steward.Instances;
using Steward.Runtime;

namespace Steward.Engines;

/// <summary>Everything an engine needs to act on one instance.</summary>
public sealed record EngineContext(ServiceInstance Instance, ServicePlan Plan, InstancePaths Paths, IInstanceRuntime Runtime)
{
    /// <summary>The address instances listen on. Steward never exposes them beyond loopback.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The instance's port; an engine is only called once a port is allocated.</summary>
    public int Port => Instance.Port ?? throw new InvalidOperationException("instance has no port allocated");
}

using Steward.Catalog;

namespace Steward.Runtime;

/// <summary>
/// What a runtime that places each instance on its own (a pod on Kubernetes) must know when it creates it: the
/// port its server listens on and clients connect to, and the plan's limits for the resources it asks for.
/// </summary>
public sealed record InstanceShape(int Port, PlanLimits Limits);

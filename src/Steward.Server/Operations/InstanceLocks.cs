using System.Collections.Concurrent;

namespace Steward.Server.Operations;

/// <summary>One gate per instance, shared by operations and the supervisor, so only one of them acts on an instance at a time.</summary>
internal sealed class InstanceLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new();

    public SemaphoreSlim For(string instanceId) => _gates.GetOrAdd(instanceId, _ => new SemaphoreSlim(1, 1));
}

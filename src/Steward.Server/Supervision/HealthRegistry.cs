using System.Collections.Concurrent;
using Steward.Supervision;

namespace Steward.Server.Supervision;

/// <summary>The latest health of every instance, written by the supervisor and read by the APIs.</summary>
internal sealed class HealthRegistry
{
    private readonly ConcurrentDictionary<string, InstanceHealth> _health = new();

    public InstanceHealth? Get(string instanceId) => _health.TryGetValue(instanceId, out var h) ? h : null;

    public IReadOnlyCollection<InstanceHealth> All => _health.Values.ToList();

    public void Set(InstanceHealth health) => _health[health.InstanceId] = health;

    public void Remove(string instanceId) => _health.TryRemove(instanceId, out _);
}

using System.Collections.Concurrent;
using Steward.Supervision;

namespace Steward.Server.Supervision;

/// <summary>The latest health of every instance, written by the supervisor and read by the APIs.</summary>
internal sealed class HealthRegistry
{
    private readonly ConcurrentDictionary<string, InstanceHealth> _health = new();

    public InstanceHealth? Get(string instanceId) => _health.TryGetValue(instanceId, out var h) ? h : null;

    public IReadOnlyCollection<InstanceHealth> All => _health.Values.ToList();

    /// <summary>Raised after every <see cref="Set"/> with the previous and the new health.</summary>
    public event Action<InstanceHealth?, InstanceHealth>? Changed;

    public void Set(InstanceHealth health)
    {
        var previous = Get(health.InstanceId);
        _health[health.InstanceId] = health;
        Changed?.Invoke(previous, health);
    }

    public void Remove(string instanceId) => _health.TryRemove(instanceId, out _);
}

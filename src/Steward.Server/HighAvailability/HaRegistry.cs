using System.Collections.Concurrent;
using Steward.HighAvailability;

namespace Steward.Server.HighAvailability;

/// <summary>
/// The latest observation of every member, written by the controller and read by the API (and by metrics:
/// replication lag per member, failovers per instance).
/// </summary>
internal sealed class HaRegistry
{
    private readonly ConcurrentDictionary<(string Instance, string Member), MemberView> _members = new();
    private readonly ConcurrentDictionary<string, int> _failovers = new();

    public MemberView? Get(string instanceId, string member) => _members.TryGetValue((instanceId, member), out var v) ? v : null;

    public void Set(string instanceId, string member, MemberView view) => _members[(instanceId, member)] = view;

    /// <summary>Every member seen, for metrics.</summary>
    public IReadOnlyList<(string InstanceId, string Member, MemberView View)> All =>
        _members.Select(kv => (kv.Key.Instance, kv.Key.Member, kv.Value)).ToList();

    /// <summary>Failovers this broker made per instance since it started (incidents hold the durable count).</summary>
    public IReadOnlyDictionary<string, int> Failovers => _failovers;

    public void CountFailover(string instanceId) => _failovers.AddOrUpdate(instanceId, 1, (_, n) => n + 1);

    public void Forget(string instanceId)
    {
        foreach (var key in _members.Keys.Where(k => k.Instance == instanceId))
        {
            _members.TryRemove(key, out _);
        }

        _failovers.TryRemove(instanceId, out _);
    }
}

/// <summary>What one member was doing at <see cref="At"/>: process, answer, WAL position and lag behind the primary in bytes.</summary>
internal sealed record MemberView(DateTimeOffset At, string State, MemberObservation? Observation, long? LagBytes, string? Error);

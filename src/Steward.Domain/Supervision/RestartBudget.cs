using Steward.Catalog;

namespace Steward.Supervision;

/// <summary>
/// At most <see cref="HealthCheckPolicy.MaxRestarts"/> restarts within a sliding
/// <see cref="HealthCheckPolicy.RestartWindow"/>, with exponential backoff. Only time empties the window: a
/// process that comes up healthy for a moment and dies again does not reset the count, so a flapping
/// server is caught as a crash loop instead of being restarted forever.
/// </summary>
public sealed class RestartBudget(HealthCheckPolicy policy, TimeProvider time)
{
    private readonly Queue<DateTimeOffset> _restarts = new();

    /// <summary>Restarts made within the current window.</summary>
    public int Used
    {
        get
        {
            Expire();
            return _restarts.Count;
        }
    }

    public int Limit => policy.MaxRestarts;

    public TimeSpan Window => policy.RestartWindow;

    /// <summary>
    /// Takes one restart from the budget and returns the delay to wait before it, or null when the budget
    /// is spent.
    /// </summary>
    public TimeSpan? TryTake()
    {
        Expire();
        if (_restarts.Count >= policy.MaxRestarts)
        {
            return null;
        }

        var delay = TimeSpan.FromTicks(Math.Min(policy.BackoffMax.Ticks, policy.BackoffBase.Ticks << Math.Min(_restarts.Count, 30)));
        _restarts.Enqueue(time.GetUtcNow());
        return delay;
    }

    private void Expire()
    {
        var now = time.GetUtcNow();
        while (_restarts.Count > 0 && now - _restarts.Peek() >= policy.RestartWindow)
        {
            _restarts.Dequeue();
        }
    }
}

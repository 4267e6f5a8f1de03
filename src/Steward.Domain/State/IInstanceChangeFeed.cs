namespace Steward.State;

/// <summary>
/// Tells readers that keep instances in memory (the supervisor) when the recorded instances changed, so they read
/// them again only then instead of on every tick.
/// </summary>
public interface IInstanceChangeFeed
{
    /// <summary>Grows after every committed change to an instance; read it before listing, then list.</summary>
    long InstancesVersion { get; }
}

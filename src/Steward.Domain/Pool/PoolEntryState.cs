namespace Steward.Pool;

/// <summary>Where a warm-pool entry is in its life.</summary>
public enum PoolEntryState
{
    Building,
    Ready,
    Taken,
}

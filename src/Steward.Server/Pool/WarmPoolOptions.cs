using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Pool;

/// <summary>The warm pool: data directories initialised ahead, so a provision does not wait for initdb (docs/warm-pool.md).</summary>
[SettingsSection("Pool")]
internal sealed record WarmPoolOptions
{
    [Setting("STEWARD_POOL_POSTGRESQL_SIZE", "PostgreSQL data directories kept initialised ahead (initdb and the application database, no server running), each with its own system identifier and administrator password; a provision takes one and the pool is topped up behind it; 0 disables the pool and removes what it holds")]
    [Range(0, 100)]
    public int PostgreSqlSize { get; init; } = 2;

    [Setting("STEWARD_POOL_NICE", "the scheduling priority (nice) the pool's initdb runs at, so topping it up yields the processor to instances and provisions; 0 is normal priority")]
    [Range(0, 19)]
    public int Nice { get; init; } = 10;
}

namespace Steward.Engines.Redis;

/// <summary>Where the Redis server binary is, and how the health check holds its connection.</summary>
public sealed record RedisEngineOptions
{
    /// <summary>Path of redis-server.</summary>
    public string ServerPath { get; init; } = "/usr/bin/redis-server";

    /// <summary>Path of redis-cli, used to stream RDB backups.</summary>
    public string CliPath { get; init; } = "/usr/bin/redis-cli";

    /// <summary>
    /// How long the supervisor's recurring check keeps using one authenticated connection before it opens a new one
    /// (zero: a new connection at every check); see RedisEngine.Check.cs.
    /// </summary>
    public TimeSpan CheckReconnectInterval { get; init; } = TimeSpan.FromMinutes(1);
}

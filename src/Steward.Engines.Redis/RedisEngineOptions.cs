namespace Steward.Engines.Redis;

/// <summary>Where the Redis server binary is.</summary>
public sealed record RedisEngineOptions
{
    /// <summary>Path of redis-server.</summary>
    public string ServerPath { get; init; } = "/usr/bin/redis-server";

    /// <summary>Path of redis-cli, used to stream RDB backups.</summary>
    public string CliPath { get; init; } = "/usr/bin/redis-cli";
}

using Steward.Engines.PostgreSql;
using Steward.Engines.Redis;

namespace Steward.Server.Operations;

/// <summary>
/// Where the data services' binaries are: STEWARD_POSTGRESQL_BIN_DIR (postgres, initdb, pg_basebackup, ...;
/// default: the newest /usr/lib/postgresql/N/bin) and STEWARD_REDIS_BIN_DIR (redis-server, redis-cli; default
/// /usr/bin). A service whose binaries are not there leaves the catalog; the broker still starts.
/// </summary>
internal sealed record EngineBinariesOptions
{
    public string? PostgreSqlBinDir { get; init; }

    public string? RedisBinDir { get; init; }

    public PostgreSqlEngineOptions PostgreSql => new() { BinDir = PostgreSqlBinDir };

    public RedisEngineOptions Redis => RedisBinDir is null
        ? new RedisEngineOptions()
        : new RedisEngineOptions { ServerPath = Path.Combine(RedisBinDir, "redis-server"), CliPath = Path.Combine(RedisBinDir, "redis-cli") };

    public static EngineBinariesOptions FromEnvironment() => new()
    {
        PostgreSqlBinDir = NonEmpty(Environment.GetEnvironmentVariable("STEWARD_POSTGRESQL_BIN_DIR")),
        RedisBinDir = NonEmpty(Environment.GetEnvironmentVariable("STEWARD_REDIS_BIN_DIR")),
    };

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

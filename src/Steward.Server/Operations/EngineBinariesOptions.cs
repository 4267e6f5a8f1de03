using Steward.Engines.PostgreSql;
using Steward.Engines.Redis;
using Steward.Server.Configuration;

namespace Steward.Server.Operations;

/// <summary>
/// Where the data services' binaries are. A service whose binaries are not there leaves the catalog; the
/// broker still starts.
/// </summary>
[SettingsSection("Engines")]
internal sealed record EngineBinariesOptions
{
    [Setting("STEWARD_POSTGRESQL_BIN_DIR", "PostgreSQL binaries (postgres, initdb, pg_basebackup, …); when missing, PostgreSQL leaves the catalog with a logged reason and the broker still starts", Default = "the newest `/usr/lib/postgresql/N/bin`", Allowed = "a directory path")]
    public string? PostgreSqlBinDir { get; init; }

    [Setting("STEWARD_REDIS_BIN_DIR", "redis-server and redis-cli; when missing, Redis leaves the catalog the same way", Default = "`/usr/bin`", Allowed = "a directory path")]
    public string? RedisBinDir { get; init; }

    public PostgreSqlEngineOptions PostgreSql => new() { BinDir = PostgreSqlBinDir };

    public RedisEngineOptions Redis => RedisBinDir is null
        ? new RedisEngineOptions()
        : new RedisEngineOptions { ServerPath = Path.Combine(RedisBinDir, "redis-server"), CliPath = Path.Combine(RedisBinDir, "redis-cli") };
}

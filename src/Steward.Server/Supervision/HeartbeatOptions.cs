using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Supervision;

/// <summary>The PostgreSQL health check's heartbeat commit, and the connections the PostgreSQL and Redis checks hold (docs/supervision.md#what-a-check-proves).</summary>
[SettingsSection("Heartbeat")]
internal sealed record HeartbeatOptions
{
    [Setting("STEWARD_POSTGRESQL_HEARTBEAT_INTERVAL", "seconds between the health check's heartbeat commits on a PostgreSQL primary nobody else writes to (while others write, and on a primary with synchronous standbys, it commits at every check); every check still proves the server answers and is not read-only; 0: commit at every check, which makes an idle instance archive a WAL segment every archive_timeout")]
    [Range(0, 86400)]
    public int Interval { get; init; } = 300;

    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(Interval);

    [Setting("STEWARD_POSTGRESQL_CHECK_RECONNECT_INTERVAL", "seconds a PostgreSQL instance's recurring health check keeps using one session before it authenticates again on a new one (that the server accepts new sessions is proven at every check by a ping, as pg_isready does; a held session that fails is replaced at once, and its failure alone fails no check); 0: a new connection at every check")]
    [Range(0, 3600)]
    public int ReconnectInterval { get; init; } = 60;

    public TimeSpan CheckReconnectInterval => TimeSpan.FromSeconds(ReconnectInterval);

    [Setting("STEWARD_REDIS_CHECK_RECONNECT_INTERVAL", "seconds a Redis instance's recurring health check keeps using one authenticated connection before it opens a new one (every check still sends PING and ROLE and fails when the server does not answer within the timeout; a held connection that fails is replaced at once, and its failure alone fails no check); 0: a new connection at every check")]
    [Range(0, 3600)]
    public int RedisReconnectInterval { get; init; } = 60;

    public TimeSpan RedisCheckReconnectInterval => TimeSpan.FromSeconds(RedisReconnectInterval);
}

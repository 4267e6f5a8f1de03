using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Supervision;

/// <summary>A service and the plan the benchmark provisions it with.</summary>
internal sealed record Service(string Name, string ServiceId, string PlanId)
{
    public static Service PostgreSql { get; } = new("postgresql", Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);

    public static Service Redis { get; } = new("redis", Catalogs.Redis, Catalogs.RedisStandalone);
}

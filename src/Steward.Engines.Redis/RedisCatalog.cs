using Steward.Catalog;

namespace Steward.Engines.Redis;

/// <summary>The Redis service offering and its plans.</summary>
internal static class RedisCatalog
{
    public const string ServiceId = "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e";
    public const string StandalonePlanId = "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f";
    public const string StandaloneLargePlanId = "d5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f80";
    public const string HaPlanId = "e6f7a8b9-c0d1-4e2f-9a3b-4c5d6e7f8091";

    private static readonly MaintenanceInfo Maintenance = new("1.0.0", "Redis 7.0 from Debian, Steward configuration 1");

    public static ServiceOffering Offering { get; } = new()
    {
        Id = ServiceId,
        Name = "redis",
        Description = "Redis 7 in-memory data store: one server per instance, or a master with replicas and automatic failover",
        Tags = ["redis", "key-value", "cache"],
        Plans =
        [
            Plan(StandalonePlanId, "standalone", "A single Redis server: 64 MB memory, 100 clients", new PlanLimits(64, 100)),
            Plan(StandaloneLargePlanId, "standalone-large", "A single Redis server: 512 MB memory, 1000 clients", new PlanLimits(512, 1000)),
            Plan(HaPlanId, "ha", "A master and two replicas behind one stable endpoint, automatic failover by Steward (asynchronous replication; a master without a replica refuses writes): 64 MB memory and 100 clients per server", new PlanLimits(64, 100)) with { Members = 3 },
        ],
    };

    private static ServicePlan Plan(string id, string name, string description, PlanLimits limits)
    {
        var instanceParameters = new ParameterSchema(new Dictionary<string, ParameterProperty>
        {
            ["maxmemory_policy"] = new(ParameterType.String, "What Redis does when memory is full")
            {
                Enum = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"],
            },
            ["appendonly"] = new(ParameterType.Boolean, "Log every write to an append-only file (durability over speed)"),
        });
        return new ServicePlan
        {
            Id = id,
            Name = name,
            Description = description,
            Limits = limits,
            MaintenanceInfo = Maintenance,
            ProvisionSchema = instanceParameters,
            UpdateSchema = instanceParameters,
            BindSchema = new ParameterSchema(new Dictionary<string, ParameterProperty>
            {
                ["read_only"] = new(ParameterType.Boolean, "Credentials limited to read commands"),
            }),
        };
    }
}

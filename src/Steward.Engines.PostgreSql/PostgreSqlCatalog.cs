using Steward.Catalog;

namespace Steward.Engines.PostgreSql;

/// <summary>The PostgreSQL service offering and its plans.</summary>
internal static class PostgreSqlCatalog
{
    public const string ServiceId = "5d2f7a3e-3c1b-4e0a-9d57-8f0a1c2b3d4e";
    public const string StandalonePlanId = "7c8e9f10-2a3b-4c5d-8e6f-0a1b2c3d4e5f";
    public const string StandaloneLargePlanId = "9a0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d";
    public const string HaPlanId = "3f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

    private static readonly MaintenanceInfo Maintenance = new("1.0.0", "PostgreSQL 15 from Debian, Steward configuration 1");

    public static ServiceOffering Offering { get; } = new()
    {
        Id = ServiceId,
        Name = "postgresql",
        Description = "PostgreSQL 15 relational database, one server per instance",
        Tags = ["postgresql", "relational", "sql"],
        Plans =
        [
            Plan(StandalonePlanId, "standalone", "A single PostgreSQL server: 256 MB memory, 100 connections", new PlanLimits(256, 100)),
            Plan(StandaloneLargePlanId, "standalone-large", "A single PostgreSQL server: 1 GB memory, 300 connections", new PlanLimits(1024, 300)),
            Plan(HaPlanId, "ha", "A primary and two synchronous standbys (ANY 1) behind one stable endpoint, automatic failover: 256 MB memory and 100 connections per server", new PlanLimits(256, 100)) with { Members = 3 },
        ],
    };

    private static ServicePlan Plan(string id, string name, string description, PlanLimits limits)
    {
        var instanceParameters = new ParameterSchema(new Dictionary<string, ParameterProperty>
        {
            ["max_connections"] = new(ParameterType.Integer, $"Maximum concurrent connections (the plan allows at most {limits.MaxConnections})") { Minimum = 10, Maximum = limits.MaxConnections },
            ["statement_timeout_ms"] = new(ParameterType.Integer, "Abort statements running longer than this many milliseconds (0 disables)") { Minimum = 0, Maximum = 86_400_000 },
            // A sort or hash may use this much per operation, several per query: a quarter of the plan's memory at most.
            ["work_mem_kb"] = new(ParameterType.Integer, $"Memory per sort or hash operation, in kB (PostgreSQL's default 4096; the plan allows at most {limits.MemoryMb * 1024 / 4})") { Minimum = 64, Maximum = limits.MemoryMb * 1024 / 4 },
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
                ["read_only"] = new(ParameterType.Boolean, "Credentials that may read every table but change nothing"),
            }),
        };
    }
}

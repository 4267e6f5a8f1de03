using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Catalog;

[Collection(RefusalCollection.Name)]
public sealed partial class CatalogTests(BrokerFixture broker)
{
    private async Task<JsonElement[]> ServicesAsync()
    {
        var reply = await broker.Client.SendAsync(HttpMethod.Get, "/v2/catalog");
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
        return reply.Body.GetProperty("services").EnumerateArray().ToArray();
    }

    private async Task<JsonElement[]> PlansAsync() =>
        (await ServicesAsync()).SelectMany(s => s.GetProperty("plans").EnumerateArray()).ToArray();

    [Theory]
    [InlineData("postgresql", Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)]
    [InlineData("redis", Catalogs.Redis, Catalogs.RedisStandalone)]
    public async Task The_catalog_offers_the_service_with_a_standalone_plan(string name, string serviceId, string planId)
    {
        var service = (await ServicesAsync()).Where(s => s.GetProperty("name").GetString() == name).ShouldHaveSingleItem();
        service.GetProperty("id").GetString().ShouldBe(serviceId);
        service.GetProperty("description").GetString().ShouldNotBeNullOrWhiteSpace();
        service.GetProperty("bindable").GetBoolean().ShouldBeTrue();
        var plan = service.GetProperty("plans").EnumerateArray().Where(p => p.GetProperty("name").GetString() == "standalone").ShouldHaveSingleItem();
        plan.GetProperty("id").GetString().ShouldBe(planId);
        plan.GetProperty("description").GetString().ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task Every_plan_states_its_memory_and_connection_limits_in_metadata()
    {
        foreach (var plan in await PlansAsync())
        {
            var metadata = plan.GetProperty("metadata");
            metadata.GetProperty("memory_mb").GetInt32().ShouldBeGreaterThan(0, plan.ToString());
            metadata.GetProperty("max_connections").GetInt32().ShouldBeGreaterThan(0, plan.ToString());
        }
    }

    [Fact]
    public async Task Every_plan_publishes_JSON_Schema_objects_for_instance_create_and_update_and_binding_create()
    {
        foreach (var plan in await PlansAsync())
        {
            var schemas = plan.GetProperty("schemas");
            JsonElement[] documents =
            [
                schemas.GetProperty("service_instance").GetProperty("create").GetProperty("parameters"),
                schemas.GetProperty("service_instance").GetProperty("update").GetProperty("parameters"),
                schemas.GetProperty("service_binding").GetProperty("create").GetProperty("parameters"),
            ];
            foreach (var schema in documents)
            {
                schema.ValueKind.ShouldBe(JsonValueKind.Object);
                schema.GetProperty("$schema").GetString().ShouldStartWith("http://json-schema.org/", customMessage: "the spec requires $schema");
                schema.GetProperty("type").GetString().ShouldBe("object");
                schema.GetProperty("properties").ValueKind.ShouldBe(JsonValueKind.Object);
            }
        }
    }

    [Fact]
    public async Task The_published_max_connections_bound_is_the_plans_limit()
    {
        var postgres = (await ServicesAsync()).Single(s => s.GetProperty("id").GetString() == Catalogs.PostgreSql);
        foreach (var plan in postgres.GetProperty("plans").EnumerateArray())
        {
            var limit = plan.GetProperty("metadata").GetProperty("max_connections").GetInt32();
            foreach (var action in new[] { "create", "update" })
            {
                plan.GetProperty("schemas").GetProperty("service_instance").GetProperty(action).GetProperty("parameters")
                    .GetProperty("properties").GetProperty("max_connections").GetProperty("maximum").GetInt32().ShouldBe(limit);
            }
        }
    }

    [Fact]
    public async Task Every_service_declares_instances_and_bindings_retrievable_and_plans_updateable()
    {
        foreach (var service in await ServicesAsync())
        {
            service.GetProperty("instances_retrievable").GetBoolean().ShouldBeTrue();
            service.GetProperty("bindings_retrievable").GetBoolean().ShouldBeTrue();
            service.GetProperty("plan_updateable").GetBoolean().ShouldBeTrue();
        }
    }

    [Fact]
    public async Task Every_plan_has_a_semantic_maintenance_info_version()
    {
        foreach (var plan in await PlansAsync())
        {
            var version = plan.GetProperty("maintenance_info").GetProperty("version").GetString().ShouldNotBeNull();
            SemanticVersion().IsMatch(version).ShouldBeTrue($"maintenance_info.version '{version}' must be semantic version 2.0");
        }
    }

    [Fact]
    public async Task Service_and_plan_ids_are_unique_and_names_unique_where_the_spec_requires()
    {
        var services = await ServicesAsync();
        var ids = services.Select(s => s.GetProperty("id").GetString()!)
            .Concat(services.SelectMany(s => s.GetProperty("plans").EnumerateArray()).Select(p => p.GetProperty("id").GetString()!))
            .ToList();
        ids.ShouldAllBe(id => !string.IsNullOrWhiteSpace(id));
        ids.Distinct(StringComparer.Ordinal).Count().ShouldBe(ids.Count, string.Join(", ", ids));
        services.Select(s => s.GetProperty("name").GetString()).Distinct(StringComparer.Ordinal).Count().ShouldBe(services.Length);
        foreach (var service in services)
        {
            var names = service.GetProperty("plans").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
            names.Distinct(StringComparer.Ordinal).Count().ShouldBe(names.Count, "plan names are unique within a service");
        }
    }

    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemanticVersion();
}

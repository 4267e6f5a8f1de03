using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Instances;

/// <summary>Provision requests the broker must refuse; after each, no instance exists.</summary>
[Collection(RefusalCollection.Name)]
public sealed class ProvisionRefusalTests(BrokerFixture broker)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;
    private const string Redis = Catalogs.Redis;
    private const string RedisPlan = Catalogs.RedisStandalone;

    private OsbClient Osb => broker.Client;

    public static TheoryData<string, string> UnknownOrMissingIds => new()
    {
        { "unknown service_id", $$"""{"service_id":"no-such-service","plan_id":"{{PgPlan}}","organization_guid":"o","space_guid":"s"}""" },
        { "unknown plan_id", $$"""{"service_id":"{{Pg}}","plan_id":"no-such-plan","organization_guid":"o","space_guid":"s"}""" },
        { "plan_id of another service", $$"""{"service_id":"{{Pg}}","plan_id":"{{RedisPlan}}","organization_guid":"o","space_guid":"s"}""" },
        { "no service_id", $$"""{"plan_id":"{{PgPlan}}","organization_guid":"o","space_guid":"s"}""" },
        { "no plan_id", $$"""{"service_id":"{{Pg}}","organization_guid":"o","space_guid":"s"}""" },
        { "empty service_id", $$"""{"service_id":"","plan_id":"{{PgPlan}}","organization_guid":"o","space_guid":"s"}""" },
        { "null plan_id", $$"""{"service_id":"{{Pg}}","plan_id":null,"organization_guid":"o","space_guid":"s"}""" },
    };

    private const string Guids = "\"organization_guid\":\"o\",\"space_guid\":\"s\"";

    public static TheoryData<string, string> WrongTypes => new()
    {
        { "service_id: 5", $$"""{"service_id":5,"plan_id":"{{RedisPlan}}",{{Guids}}}""" },
        { "plan_id: true", $$"""{"service_id":"{{Redis}}","plan_id":true,{{Guids}}}""" },
        { "parameters: \"x\"", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"parameters":"x"}""" },
        { "parameters: []", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"parameters":[]}""" },
        { "parameters: 1", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"parameters":1}""" },
        { "parameters: null", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"parameters":null}""" },
        { "maintenance_info: \"1.0.0\"", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"maintenance_info":"1.0.0"}""" },
        { "maintenance_info.version: 1", $$$"""{"service_id":"{{{Redis}}}","plan_id":"{{{RedisPlan}}}",{{{Guids}}},"maintenance_info":{"version":1}}""" },
        { "context: \"x\"", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"context":"x"}""" },
        { "context: null", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"context":null}""" },
        { "organization_guid: 5", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","organization_guid":5,"space_guid":"s"}""" },
        { "space_guid: []", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","organization_guid":"o","space_guid":[]}""" },
        { "space_guid: {}", $$$"""{"service_id":"{{{Redis}}}","plan_id":"{{{RedisPlan}}}","organization_guid":"o","space_guid":{}}""" },
    };

    /// <summary>OSB 2.17: organization_guid and space_guid are deprecated in favour of context, but still REQUIRED non-empty strings.</summary>
    public static TheoryData<string, string> MissingPlatformGuids => new()
    {
        { "organization_guid", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","space_guid":"s"}""" },
        { "organization_guid", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","organization_guid":"","space_guid":"s"}""" },
        { "organization_guid", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","organization_guid":null,"space_guid":"s"}""" },
        { "space_guid", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","organization_guid":"o"}""" },
        { "space_guid", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","organization_guid":"o","space_guid":""}""" },
        { "organization_guid", $$$"""{"service_id":"{{{Redis}}}","plan_id":"{{{RedisPlan}}}","context":{"platform":"cloudfoundry","organization_guid":"o","space_guid":"s"}}""" },
    };

    public static TheoryData<string, string> Ambiguous => new()
    {
        { "plan_id", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","plan_id":"{{Catalogs.RedisLarge}}",{{Guids}}}""" },
        { "parameters.maxmemory_policy", $$$"""{"service_id":"{{{Redis}}}","plan_id":"{{{RedisPlan}}}",{{{Guids}}},"parameters":{"maxmemory_policy":"noeviction","maxmemory_policy":"allkeys-lru"}}""" },
        { "context.platform", $$$"""{"service_id":"{{{Redis}}}","plan_id":"{{{RedisPlan}}}",{{{Guids}}},"context":{"platform":"a","platform":"b"}}""" },
    };

    public static TheoryData<string, string, string, string> SchemaViolations => new()
    {
        { Pg, PgPlan, """{"max_connections":5}""", "max_connections" },
        { Pg, PgPlan, """{"max_connections":100000}""", "max_connections" },
        { Pg, PgPlan, """{"max_connections":"50"}""", "max_connections" },
        { Pg, PgPlan, """{"max_connections":50.5}""", "max_connections" },
        { Pg, PgPlan, """{"statement_timeout_ms":-1}""", "statement_timeout_ms" },
        { Pg, PgPlan, """{"work_mem_kb":65537}""", "work_mem_kb" },
        { Pg, PgPlan, """{"work_mem_kb":32}""", "work_mem_kb" },
        { Pg, PgPlan, """{"shared_buffers":"1GB"}""", "shared_buffers" },
        { Pg, PgPlan, """{"read_only":true}""", "read_only" },
        { Redis, RedisPlan, """{"maxmemory_policy":"bogus"}""", "maxmemory_policy" },
        { Redis, RedisPlan, """{"appendonly":"yes"}""", "appendonly" },
        { Redis, RedisPlan, """{"requirepass":"x"}""", "requirepass" },
    };

    public static TheoryData<string, string> NotJsonObjects => new()
    {
        { "malformed JSON", "{\"service_id\": " },
        { "not JSON at all", "service_id=x" },
        { "empty body", string.Empty },
        { "JSON array", $$"""[{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}"}]""" },
        { "JSON null", "null" },
        { "JSON string", "\"x\"" },
        { "nested 64 deep", string.Concat(Enumerable.Repeat("{\"a\":", 64)) + "1" + new string('}', 64) },
        { "trailing garbage", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}"} x""" },
    };

    [Theory]
    [InlineData("")]
    [InlineData("?accepts_incomplete=false")]
    public async Task Provision_without_accepts_incomplete_returns_422_AsyncRequired_and_creates_nothing(string query)
    {
        var id = Ids.New("sync");
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, OsbClientExtensions.ProvisionBody(Redis, RedisPlan), query));
        reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "AsyncRequired");
        (await Osb.LastOperationAsync(id)).ShouldBeOsbError(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("yes")]
    public async Task Provision_with_an_accepts_incomplete_that_is_not_a_boolean_returns_400(string value)
    {
        var id = Ids.New("maybe");
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, OsbClientExtensions.ProvisionBody(Redis, RedisPlan), "?accepts_incomplete=" + value));
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "accepts_incomplete");
    }

    [Theory]
    [MemberData(nameof(UnknownOrMissingIds))]
    public async Task Provision_with_an_unknown_or_missing_service_or_plan_returns_400(string because, string body)
    {
        var id = Ids.New("ids");
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbError(HttpStatusCode.BadRequest);
        reply.Str("description")!.ShouldContain("_id", customMessage: because);
    }

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task Provision_with_a_field_of_the_wrong_type_returns_400(string because, string body)
    {
        var id = Ids.New("types");
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbError(HttpStatusCode.BadRequest);
        reply.Str("description")!.ShouldContain(because.Split(':')[0].Split('.')[0], Case.Sensitive, reply.ToString());
    }

    [Theory]
    [MemberData(nameof(SchemaViolations))]
    public async Task Provision_with_parameters_the_plan_schema_refuses_returns_400_naming_the_parameter(string serviceId, string planId, string parameters, string name)
    {
        var id = Ids.New("schema");
        var body = $$"""{"service_id":"{{serviceId}}","plan_id":"{{planId}}","organization_guid":"o","space_guid":"s","parameters":{{parameters}}}""";
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, name);
    }

    [Fact]
    public async Task Provision_with_another_maintenance_info_version_returns_422_MaintenanceInfoConflict()
    {
        var id = Ids.New("maintenance");
        var body = OsbClientExtensions.ProvisionBody(Redis, RedisPlan, maintenanceInfo: new { version = "9.9.9" });
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "MaintenanceInfoConflict");
    }

    [Theory]
    [MemberData(nameof(NotJsonObjects))]
    public async Task Provision_with_a_body_that_is_not_a_JSON_object_returns_400(string because, string body)
    {
        var id = Ids.New("body");
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbError(HttpStatusCode.BadRequest);
        reply.Str("description")!.ShouldNotBeNullOrWhiteSpace(because);
    }

    [Theory]
    [MemberData(nameof(MissingPlatformGuids))]
    public async Task Provision_without_organization_guid_or_space_guid_returns_400_naming_it(string field, string body)
    {
        var id = Ids.New("guids");
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, field);
    }

    [Theory]
    [MemberData(nameof(Ambiguous))]
    public async Task Provision_with_a_JSON_key_given_twice_returns_400_naming_it(string key, string body)
    {
        var id = Ids.New("twice");
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, $"'{key}'");
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "service_id=redis&plan_id=x&organization_guid=o&space_guid=s")]
    [InlineData("text/plain", "{}")]
    [InlineData("application/xml", "<provision><service_id>redis</service_id></provision>")]
    public async Task Provision_with_a_body_that_is_not_JSON_returns_415(string contentType, string body)
    {
        var id = Ids.New("media");
        var reply = await RefusedAsync(id, () => RawHttp.SendAsync(broker.Server, "PUT", $"/v2/service_instances/{id}?accepts_incomplete=true", body, contentType));
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.UnsupportedMediaType, "application/json");
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"\\udfff\\ud800\"")]
    [InlineData("\"ok\\ud83d\"")]
    public async Task Provision_with_a_lone_surrogate_anywhere_returns_400(string value)
    {
        foreach (var body in new[]
        {
            $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"context":{"name":""" + value + "}}",
            $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}",{{Guids}},"context":{""" + value + ":1}}",
            $$"""{"service_id":{{value}},"plan_id":"{{RedisPlan}}",{{Guids}}}""",
        })
        {
            var id = Ids.New("surrogate");
            var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
            reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "Unicode");
        }
    }

    [Fact]
    public async Task Provision_with_a_70_KB_body_returns_413()
    {
        var id = Ids.New("large");
        var body = $$$"""{"service_id":"{{{Redis}}}","plan_id":"{{{RedisPlan}}}","context":{"padding":"{{{new string('x', 70 * 1024)}}}"}}""";
        var reply = await RefusedAsync(id, () => Osb.PutInstanceRawAsync(id, body));
        reply.ShouldBeOsbError(HttpStatusCode.RequestEntityTooLarge);
    }

    /// <summary>Sends a request that must be refused and checks it left no instance behind.</summary>
    private async Task<Reply> RefusedAsync(string id, Func<Task<Reply>> request)
    {
        var before = await Osb.InstanceIdsAsync();
        var reply = await request();
        ((int)reply.Status).ShouldBeInRange(400, 499, reply.ToString());
        (await Osb.InstanceIdsAsync()).ShouldBe(before, "a refused provision must not create an instance");
        (await Osb.GetInstanceAsync(id)).Status.ShouldBe(HttpStatusCode.NotFound);
        broker.Server.InstanceDirectories().ShouldBeEmpty();
        return reply;
    }
}

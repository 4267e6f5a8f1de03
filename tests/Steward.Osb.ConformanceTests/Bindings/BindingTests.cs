using System.Net;
using System.Text.Json;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Bindings;

[Collection(LifecycleCollection.Name)]
public sealed class BindingTests(LifecycleFixture broker)
{
    private OsbClient Osb => broker.Client;

    public static TheoryData<string> Services => ["redis", "postgresql"];

    public static TheoryData<string, string> InvalidParameters => new()
    {
        { """{"read_only":"yes"}""", "read_only" },
        { """{"read_only":1}""", "read_only" },
        { """{"superuser":true}""", "superuser" },
        { "[]", "parameters" },
        { "\"x\"", "parameters" },
    };

    [Fact]
    public async Task Binding_to_an_unknown_instance_returns_404()
    {
        (await Osb.BindAsync(Ids.New("unknown"), Ids.New("b"), Catalogs.Redis, Catalogs.RedisStandalone)).ShouldBeOsbError(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData(Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)]
    [InlineData(Catalogs.Redis, Catalogs.RedisLarge)]
    [InlineData(Catalogs.Redis, "no-such-plan")]
    [InlineData("no-such-service", Catalogs.RedisStandalone)]
    public async Task Binding_with_a_service_or_plan_that_is_not_the_instances_returns_400_and_binds_nothing(string serviceId, string planId)
    {
        var shared = await broker.RedisAsync();
        var bindingId = Ids.New("b");
        (await Osb.BindAsync(shared.Id, bindingId, serviceId, planId)).ShouldBeOsbError(HttpStatusCode.BadRequest);
        (await Osb.GetBindingAsync(shared.Id, bindingId)).ShouldBeOsbError(HttpStatusCode.NotFound);
    }

    [Theory]
    [MemberData(nameof(InvalidParameters))]
    public async Task Binding_with_parameters_the_schema_refuses_returns_400_naming_the_parameter_and_binds_nothing(string parameters, string name)
    {
        var shared = await broker.RedisAsync();
        var bindingId = Ids.New("b");
        var body = $$"""{"service_id":"{{shared.ServiceId}}","plan_id":"{{shared.PlanId}}","parameters":{{parameters}}}""";
        (await Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{shared.Id}/service_bindings/{bindingId}", body)).ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, name);
        (await Osb.GetBindingAsync(shared.Id, bindingId)).ShouldBeOsbError(HttpStatusCode.NotFound);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task A_binding_returns_201_with_credentials_to_reach_the_instance(string service)
    {
        var shared = await SharedAsync(service);
        var reply = await Osb.BindAsync(shared.Id, Ids.New("b"), shared.ServiceId, shared.PlanId);
        reply.Status.ShouldBe(HttpStatusCode.Created, reply.ToString());
        var credentials = reply.Body.GetProperty("credentials");
        string[] keys = service == "postgresql" ? ["uri", "host", "port", "username", "password", "database"] : ["uri", "host", "port", "username", "password"];
        foreach (var key in keys)
        {
            credentials.TryGetProperty(key, out var value).ShouldBeTrue($"credentials lack '{key}': {reply}");
            value.ToString().ShouldNotBeNullOrWhiteSpace(key);
        }

        credentials.GetProperty("port").ValueKind.ShouldBe(JsonValueKind.Number);
        var uri = new Uri(credentials.GetProperty("uri").GetString()!);
        uri.Scheme.ShouldBe(service == "postgresql" ? "postgresql" : "redis", StringCompareShould.IgnoreCase);
        uri.Port.ShouldBe(credentials.GetProperty("port").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Binding_again_with_identical_attributes_returns_200_with_the_same_credentials(string service)
    {
        var shared = await SharedAsync(service);
        var bindingId = Ids.New("b");
        var first = await Osb.BindReadyAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId);
        var again = await Osb.BindAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId);
        again.Status.ShouldBe(HttpStatusCode.OK, again.ToString());
        again.Body.GetProperty("credentials").ToString().ShouldBe(first.ToString());
    }

    [Fact]
    public async Task Binding_an_existing_id_with_other_parameters_returns_409_and_keeps_the_first_binding()
    {
        var shared = await broker.RedisAsync();
        var bindingId = Ids.New("b");
        var first = await Osb.BindReadyAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId);
        (await Osb.BindAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId, new { read_only = true })).ShouldBeOsbError(HttpStatusCode.Conflict);
        var fetched = await Osb.GetBindingAsync(shared.Id, bindingId);
        fetched.Body.GetProperty("credentials").ToString().ShouldBe(first.ToString());
        fetched.Body.GetProperty("parameters").EnumerateObject().ShouldBeEmpty();
    }

    [Fact]
    public async Task Binding_an_id_already_used_on_another_instance_returns_409_and_binds_nothing()
    {
        var redis = await broker.RedisAsync();
        var postgres = await broker.PostgreSqlAsync();
        var bindingId = Ids.New("b");
        await Osb.BindReadyAsync(redis.Id, bindingId, redis.ServiceId, redis.PlanId);
        (await Osb.BindAsync(postgres.Id, bindingId, postgres.ServiceId, postgres.PlanId)).ShouldBeOsbError(HttpStatusCode.Conflict);
        (await Osb.GetBindingAsync(postgres.Id, bindingId)).ShouldBeOsbError(HttpStatusCode.NotFound);
        (await Osb.GetBindingAsync(redis.Id, bindingId)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Fetching_a_binding_returns_200_with_its_credentials_and_parameters(string service)
    {
        var shared = await SharedAsync(service);
        var bindingId = Ids.New("b");
        var credentials = await Osb.BindReadyAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId, new { read_only = true });
        var fetched = await Osb.GetBindingAsync(shared.Id, bindingId);
        fetched.Status.ShouldBe(HttpStatusCode.OK, fetched.ToString());
        fetched.Body.GetProperty("credentials").ToString().ShouldBe(credentials.ToString());
        fetched.Body.GetProperty("parameters").GetProperty("read_only").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task Fetching_an_unknown_binding_returns_404()
    {
        var shared = await broker.RedisAsync();
        (await Osb.GetBindingAsync(shared.Id, Ids.New("unknown"))).ShouldBeOsbError(HttpStatusCode.NotFound);
        (await Osb.GetBindingAsync(Ids.New("unknown"), Ids.New("unknown"))).ShouldBeOsbError(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("plan_id=" + Catalogs.RedisStandalone)]
    [InlineData("service_id=" + Catalogs.Redis)]
    [InlineData("")]
    public async Task Unbinding_without_service_id_or_plan_id_returns_400_and_keeps_the_binding(string query)
    {
        var shared = await broker.RedisAsync();
        var bindingId = Ids.New("b");
        var credentials = await Osb.BindReadyAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId);
        (await Osb.SendAsync(HttpMethod.Delete, $"/v2/service_instances/{shared.Id}/service_bindings/{bindingId}?{query}")).ShouldBeOsbError(HttpStatusCode.BadRequest);
        (await Osb.GetBindingAsync(shared.Id, bindingId)).Status.ShouldBe(HttpStatusCode.OK);
        (await OsbClientExtensions.RedisAsync(credentials, "PING")).ShouldBe("PONG");
    }

    [Fact]
    public async Task Unbinding_an_unknown_binding_returns_410_with_an_empty_object()
    {
        var shared = await broker.RedisAsync();
        (await Osb.UnbindAsync(shared.Id, Ids.New("unknown"), shared.ServiceId, shared.PlanId)).ShouldBeEmptyObject(HttpStatusCode.Gone);
    }

    [Fact]
    public async Task After_unbinding_the_credentials_stop_working_and_the_binding_is_gone_everywhere()
    {
        var shared = await broker.RedisAsync();
        var bindingId = Ids.New("b");
        var credentials = await Osb.BindReadyAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId);
        (await Osb.UnbindAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId)).ShouldBeEmptyObject(HttpStatusCode.OK);

        (await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{shared.Id}/service_bindings/{bindingId}/last_operation")).ShouldBeEmptyObject(HttpStatusCode.Gone);
        (await Osb.UnbindAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId)).ShouldBeEmptyObject(HttpStatusCode.Gone);
        (await Osb.GetBindingAsync(shared.Id, bindingId)).ShouldBeOsbError(HttpStatusCode.NotFound);
        (await OsbClientExtensions.RedisAsync(credentials, "PING")).ShouldContain("WRONGPASS");
    }

    [Fact]
    public async Task Credentials_never_appear_in_the_fetched_instance_nor_in_Stewards_own_API()
    {
        var postgres = await broker.PostgreSqlAsync();
        var redis = await broker.RedisAsync();
        var pg = await Osb.BindReadyAsync(postgres.Id, Ids.New("b"), postgres.ServiceId, postgres.PlanId);
        var rd = await Osb.BindReadyAsync(redis.Id, Ids.New("b"), redis.ServiceId, redis.PlanId);
        var texts = new[]
        {
            (await Osb.GetInstanceAsync(postgres.Id)).Text,
            (await Osb.GetInstanceAsync(redis.Id)).Text,
            (await Osb.ApiAsync("/instances")).Text,
            (await Osb.ApiAsync($"/instances/{postgres.Id}")).Text,
            (await Osb.ApiAsync($"/instances/{redis.Id}")).Text,
        };
        foreach (var text in texts)
        {
            text.ShouldNotContain(pg.GetProperty("password").GetString()!);
            text.ShouldNotContain(rd.GetProperty("password").GetString()!);
            text.ShouldNotContain("password", Case.Insensitive);
        }
    }

    private Task<SharedInstance> SharedAsync(string service) => service == "postgresql" ? broker.PostgreSqlAsync() : broker.RedisAsync();
}

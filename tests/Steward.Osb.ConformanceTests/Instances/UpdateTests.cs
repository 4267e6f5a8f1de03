using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Instances;

[Collection(LifecycleCollection.Name)]
public sealed class UpdateTests(LifecycleFixture broker)
{
    private const string Redis = Catalogs.Redis;
    private const string RedisPlan = Catalogs.RedisStandalone;

    private OsbClient Osb => broker.Client;

    public static TheoryData<string, string> SchemaViolations => new()
    {
        { """{"maxmemory_policy":"bogus"}""", "maxmemory_policy" },
        { """{"maxmemory_policy":7}""", "maxmemory_policy" },
        { """{"appendonly":"yes"}""", "appendonly" },
        { """{"maxmemory":"1gb"}""", "maxmemory" },
        { """{"read_only":true}""", "read_only" },
    };

    [Fact]
    public async Task Updating_an_unknown_instance_returns_404()
    {
        (await Osb.UpdateAsync(Ids.New("unknown"), Redis, RedisPlan, new { appendonly = true })).ShouldBeOsbError(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Updating_with_another_service_id_returns_400_and_changes_nothing()
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.UpdateAsync(shared.Id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "service_id");
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [InlineData("no-such-plan")]
    [InlineData(Catalogs.PostgreSqlStandalone)]
    public async Task Updating_to_a_plan_the_service_does_not_have_returns_400_and_changes_nothing(string planId)
    {
        var shared = await broker.RedisAsync();
        (await Osb.UpdateAsync(shared.Id, Redis, planId)).ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "plan_id");
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [MemberData(nameof(SchemaViolations))]
    public async Task Updating_with_parameters_the_schema_refuses_returns_400_naming_the_parameter_and_changes_nothing(string parameters, string name)
    {
        var shared = await broker.RedisAsync();
        var body = $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","parameters":{{parameters}}}""";
        (await Osb.SendAsync(HttpMethod.Patch, $"/v2/service_instances/{shared.Id}?accepts_incomplete=true", body)).ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, name);
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task An_update_that_changes_nothing_returns_200_with_an_empty_object(bool acceptsIncomplete, bool namePlan)
    {
        var shared = await broker.RedisAsync();
        (await Osb.UpdateAsync(shared.Id, Redis, namePlan ? RedisPlan : null, acceptsIncomplete: acceptsIncomplete)).ShouldBeEmptyObject(HttpStatusCode.OK);
        await ShouldBeUnchangedAsync(shared);
    }

    [Fact]
    public async Task Updating_with_another_maintenance_info_version_returns_422_MaintenanceInfoConflict_and_changes_nothing()
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.PatchInstanceAsync(shared.Id, new Dictionary<string, object?>
        {
            ["service_id"] = Redis,
            ["plan_id"] = RedisPlan,
            ["parameters"] = new { appendonly = true },
            ["maintenance_info"] = new { version = "9.9.9" },
        });
        reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "MaintenanceInfoConflict");
        await ShouldBeUnchangedAsync(shared);
    }

    [Fact]
    public async Task An_update_that_needs_work_without_accepts_incomplete_returns_422_AsyncRequired_and_changes_nothing()
    {
        var shared = await broker.RedisAsync();
        (await Osb.UpdateAsync(shared.Id, Redis, RedisPlan, new { appendonly = true }, acceptsIncomplete: false))
            .ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "AsyncRequired");
        await ShouldBeUnchangedAsync(shared);
    }

    [Fact]
    public async Task An_accepted_update_succeeds_and_the_new_parameters_are_fetched_and_in_effect()
    {
        var id = Ids.New("redis-update");
        await Osb.ProvisionReadyAsync(id, Redis, RedisPlan);
        var credentials = await Osb.BindReadyAsync(id, Ids.New("b"), Redis, RedisPlan);
        (await OsbClientExtensions.RedisAsync(credentials, "INFO", "memory")).ShouldNotBeNull().ShouldContain("maxmemory_policy:noeviction");

        var operation = (await Osb.UpdateAsync(id, Redis, RedisPlan, new { maxmemory_policy = "allkeys-lru" })).ShouldBeAccepted();
        var done = await Osb.WaitAsync(id, operation);
        done.Status.ShouldBe(HttpStatusCode.OK, done.ToString());
        done.Str("state").ShouldBe("succeeded");
        done.Str("description").ShouldNotBeNullOrWhiteSpace();

        var fetched = await Osb.GetInstanceAsync(id);
        fetched.Status.ShouldBe(HttpStatusCode.OK, fetched.ToString());
        fetched.Body.GetProperty("parameters").GetProperty("maxmemory_policy").GetString().ShouldBe("allkeys-lru");
        (await OsbClientExtensions.RedisAsync(credentials, "INFO", "memory")).ShouldNotBeNull().ShouldContain("maxmemory_policy:allkeys-lru");
    }

    /// <summary>
    /// The update is held in progress deterministically: its server is stopped (SIGSTOP) before the PATCH, so
    /// the restart step waits for it to exit, which it can only do once continued (SIGCONT). Every request sent
    /// in between provably arrives during the update, and is bracketed by last_operation polls to show it.
    /// </summary>
    [Fact]
    public async Task Requests_that_arrive_while_updating_are_answered_as_the_spec_requires()
    {
        var id = Ids.New("redis-busy");
        await Osb.ProvisionReadyAsync(id, Redis, RedisPlan);
        var pid = (await Osb.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        var parameters = new { maxmemory_policy = "volatile-ttl" };
        Processes.Kill(pid, 19); // SIGSTOP
        string operation;
        Probe resent, fetch, other, delete;
        try
        {
            operation = (await Osb.UpdateAsync(id, Redis, RedisPlan, parameters)).ShouldBeAccepted();
            resent = await Probe.SendAsync(Osb, id, operation, () => Osb.UpdateAsync(id, Redis, RedisPlan, parameters));
            fetch = await Probe.SendAsync(Osb, id, operation, () => Osb.GetInstanceAsync(id));
            other = await Probe.SendAsync(Osb, id, operation, () => Osb.UpdateAsync(id, Redis, RedisPlan, new { appendonly = true }));
            delete = await Probe.SendAsync(Osb, id, operation, () => Osb.DeprovisionAsync(id, Redis, RedisPlan));
        }
        finally
        {
            Processes.Kill(pid, 18); // SIGCONT: the server handles the pending stop signal and the update goes on
        }

        this.ShouldSatisfyAllConditions(
            () => new[] { resent, fetch, other, delete }.ShouldAllBe(p => p.During && !p.After, "every request arrived while the update ran"),

            // "a re-sent PATCH request MUST return a 202 Accepted, not a 200 OK, if the requested update has not yet completed"
            () => resent.Reply.ShouldBeAccepted().ShouldBe(operation, "a re-sent PATCH returns the original operation"),
            () => fetch.Reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "ConcurrencyError"),
            () => other.Reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "ConcurrencyError"),
            () => delete.Reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "ConcurrencyError"));
        var done = await Osb.WaitAsync(id, operation);
        done.Str("state").ShouldBe("succeeded", done.ToString());
        (await Osb.GetInstanceAsync(id)).Body.GetProperty("parameters").GetProperty("maxmemory_policy").GetString().ShouldBe("volatile-ttl");
    }

    private async Task ShouldBeUnchangedAsync(SharedInstance shared)
    {
        var fetched = await Osb.GetInstanceAsync(shared.Id);
        fetched.Status.ShouldBe(HttpStatusCode.OK, fetched.ToString());
        fetched.Str("plan_id").ShouldBe(shared.PlanId);
        fetched.Body.GetProperty("parameters").EnumerateObject().ShouldBeEmpty("a refused update must not change the instance");
        (await Osb.LastOperationAsync(shared.Id)).Str("state").ShouldBe("succeeded", "a refused update must not start an operation");
    }
}

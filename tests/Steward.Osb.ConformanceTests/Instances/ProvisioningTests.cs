using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Instances;

[Collection(LifecycleCollection.Name)]
public sealed class ProvisioningTests(LifecycleFixture broker)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    private OsbClient Osb => broker.Client;

    /// <summary>
    /// PostgreSQL takes long enough to provision that every request below arrives while the operation runs;
    /// the conditions are checked together so one report lists every deviation.
    /// </summary>
    [Fact]
    public async Task Requests_that_arrive_while_provisioning_are_answered_as_the_spec_requires()
    {
        var id = Ids.New("pg-race");
        var parameters = new { max_connections = 20 };
        var started = await Osb.ProvisionAsync(id, Pg, PgPlan, parameters);
        var operation = started.ShouldBeAccepted();

        var fetch = await Probe.SendAsync(Osb, id, operation, () => Osb.GetInstanceAsync(id));
        var polled = await Probe.SendAsync(Osb, id, operation, () => Osb.LastOperationAsync(id, operation));
        var identical = await Probe.SendAsync(Osb, id, operation, () => Osb.ProvisionAsync(id, Pg, PgPlan, parameters));
        var different = await Probe.SendAsync(Osb, id, operation, () => Osb.ProvisionAsync(id, Pg, PgPlan, new { max_connections = 21 }));
        var update = await Probe.SendAsync(Osb, id, operation, () => Osb.UpdateAsync(id, Pg, PgPlan, new { max_connections = 30 }));
        var bind = await Probe.SendAsync(Osb, id, operation, () => Osb.BindAsync(id, Ids.New("b"), Pg, PgPlan));
        var delete = await Probe.SendAsync(Osb, id, operation, () => Osb.DeprovisionAsync(id, Pg, PgPlan));
        delete.During.ShouldBeTrue("provisioning ended before the probes ran; nothing was tested during it");

        this.ShouldSatisfyAllConditions(
            () => fetch.Reply.ShouldBeOsbError(HttpStatusCode.NotFound),
            () => polled.Reply.Status.ShouldBe(HttpStatusCode.OK, polled.Reply.ToString()),
            () => polled.Reply.Str("state").ShouldBe("in progress"),
            () => polled.Reply.Str("description").ShouldNotBeNullOrWhiteSpace(),
            () => identical.Reply.ShouldBeAccepted().ShouldBe(operation, "a re-sent PUT returns 202 with the original operation"),
            () => different.Reply.ShouldBeOsbError(HttpStatusCode.Conflict),
            () => update.Reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "ConcurrencyError"),
            () => delete.Reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "ConcurrencyError"),
            () => bind.Reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "ConcurrencyError"));

        var done = await Osb.WaitAsync(id, operation);
        done.Status.ShouldBe(HttpStatusCode.OK, done.ToString());
        done.Str("state").ShouldBe("succeeded");
        (await Osb.GetInstanceAsync(id)).Body.GetProperty("parameters").GetProperty("max_connections").GetInt32().ShouldBe(20, "the refused update changed nothing");
    }

    [Fact]
    public async Task An_identical_provision_after_success_returns_200_with_only_the_dashboard_url()
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.ProvisionAsync(shared.Id, shared.ServiceId, shared.PlanId);
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
        reply.Body.EnumerateObject().Select(p => p.Name).ShouldBe(["dashboard_url"]);
        reply.Str("dashboard_url")!.ShouldEndWith($"/dashboard/instances/{shared.Id}");
    }

    [Theory]
    [InlineData("other parameters")]
    [InlineData("other plan")]
    [InlineData("other service")]
    public async Task A_provision_of_an_existing_id_with_other_attributes_returns_409_and_changes_nothing(string difference)
    {
        var shared = await broker.RedisAsync();
        var reply = difference switch
        {
            "other parameters" => await Osb.ProvisionAsync(shared.Id, shared.ServiceId, shared.PlanId, new { maxmemory_policy = "allkeys-lfu" }),
            "other plan" => await Osb.ProvisionAsync(shared.Id, shared.ServiceId, Catalogs.RedisLarge),
            _ => await Osb.ProvisionAsync(shared.Id, Pg, PgPlan),
        };

        reply.ShouldBeOsbError(HttpStatusCode.Conflict);
        var fetched = await Osb.GetInstanceAsync(shared.Id);
        fetched.Str("service_id").ShouldBe(shared.ServiceId);
        fetched.Str("plan_id").ShouldBe(shared.PlanId);
        fetched.Body.GetProperty("parameters").EnumerateObject().ShouldBeEmpty();
    }

    [Fact]
    public async Task Last_operation_reports_a_finished_provision_as_succeeded_with_a_description()
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.LastOperationAsync(shared.Id, shared.ProvisionOperation);
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
        reply.Str("state").ShouldBe("succeeded");
        reply.Str("description").ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task A_provisioned_instance_can_be_fetched_with_its_service_plan_and_maintenance_info()
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.GetInstanceAsync(shared.Id);
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
        reply.Str("service_id").ShouldBe(shared.ServiceId);
        reply.Str("plan_id").ShouldBe(shared.PlanId);
        reply.Body.GetProperty("maintenance_info").GetProperty("version").GetString().ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData("op-doesnotexist")]
    [InlineData("")]
    public async Task Last_operation_with_an_operation_that_is_not_the_instances_returns_400(string operation)
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{shared.Id}/last_operation?operation={operation}");
        reply.ShouldBeOsbError(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Last_operation_with_another_instances_operation_returns_400()
    {
        var redis = await broker.RedisAsync();
        var postgres = await broker.PostgreSqlAsync();
        (await Osb.LastOperationAsync(redis.Id, postgres.ProvisionOperation)).ShouldBeOsbError(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Last_operation_of_an_unknown_instance_returns_404()
    {
        (await Osb.LastOperationAsync(Ids.New("unknown"))).ShouldBeOsbError(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Fetching_an_unknown_instance_returns_404()
    {
        (await Osb.GetInstanceAsync(Ids.New("unknown"))).ShouldBeOsbError(HttpStatusCode.NotFound);
    }
}

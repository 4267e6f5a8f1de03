using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Instances;

[Collection(LifecycleCollection.Name)]
public sealed class DeprovisionTests(LifecycleFixture broker)
{
    private const string Redis = Catalogs.Redis;
    private const string RedisPlan = Catalogs.RedisStandalone;

    private OsbClient Osb => broker.Client;

    [Theory]
    [InlineData("plan_id=" + RedisPlan)]
    [InlineData("service_id=" + Redis)]
    [InlineData("service_id=&plan_id=" + RedisPlan)]
    [InlineData("")]
    public async Task Deprovision_without_service_id_or_plan_id_returns_400_and_deletes_nothing(string query)
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.SendAsync(HttpMethod.Delete, $"/v2/service_instances/{shared.Id}?accepts_incomplete=true&{query}");
        reply.ShouldBeOsbError(HttpStatusCode.BadRequest);
        await ShouldStillServeAsync(shared);
    }

    [Theory]
    [InlineData(Redis, Catalogs.RedisLarge)]
    [InlineData(Catalogs.PostgreSql, RedisPlan)]
    [InlineData(Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)]
    public async Task Deprovision_naming_another_service_or_plan_returns_400_and_deletes_nothing(string serviceId, string planId)
    {
        var shared = await broker.RedisAsync();
        (await Osb.DeprovisionAsync(shared.Id, serviceId, planId)).ShouldBeOsbError(HttpStatusCode.BadRequest);
        await ShouldStillServeAsync(shared);
    }

    [Fact]
    public async Task Deprovisioning_an_unknown_instance_returns_410_with_an_empty_object()
    {
        (await Osb.DeprovisionAsync(Ids.New("unknown"), Redis, RedisPlan)).ShouldBeEmptyObject(HttpStatusCode.Gone);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&accepts_incomplete=false")]
    public async Task Deprovision_without_accepts_incomplete_returns_422_AsyncRequired_and_the_instance_keeps_working(string query)
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.SendAsync(HttpMethod.Delete, $"/v2/service_instances/{shared.Id}?service_id={Redis}&plan_id={RedisPlan}{query}");
        reply.ShouldBeOsbError(HttpStatusCode.UnprocessableEntity, "AsyncRequired");
        await ShouldStillServeAsync(shared);
    }

    [Fact]
    public async Task Deprovision_with_accepts_incomplete_that_is_not_a_boolean_returns_400()
    {
        var shared = await broker.RedisAsync();
        var reply = await Osb.SendAsync(HttpMethod.Delete, $"/v2/service_instances/{shared.Id}?service_id={Redis}&plan_id={RedisPlan}&accepts_incomplete=maybe");
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "accepts_incomplete");
        await ShouldStillServeAsync(shared);
    }

    [Fact]
    public async Task A_deprovision_is_polled_to_410_after_which_deletes_return_410_and_the_id_can_be_provisioned_anew()
    {
        var id = Ids.New("redis-delete");
        await Osb.ProvisionReadyAsync(id, Redis, RedisPlan, new { appendonly = true });
        var firstDirectory = (await Osb.ApiAsync($"/instances/{id}")).Body.GetProperty("directory").GetString()!;

        var operation = (await Osb.DeprovisionAsync(id, Redis, RedisPlan)).ShouldBeAccepted();
        var resent = await Probe.SendAsync(Osb, id, operation, () => Osb.DeprovisionAsync(id, Redis, RedisPlan));
        if (resent.During)
        {
            // "a re-sent DELETE request MUST return a 202 Accepted, not a 200 OK, if the delete request has not completed yet"
            resent.Reply.ShouldBeAccepted().ShouldBe(operation);
        }
        else if (resent.After)
        {
            resent.Reply.ShouldBeEmptyObject(HttpStatusCode.Gone);
        }
        else
        {
            resent.Reply.Status.ShouldBeOneOf([HttpStatusCode.Accepted, HttpStatusCode.Gone], resent.Reply.ToString());
        }

        (await Osb.WaitAsync(id, operation)).ShouldBeEmptyObject(HttpStatusCode.Gone);
        (await Osb.LastOperationAsync(id)).ShouldBeEmptyObject(HttpStatusCode.Gone);
        (await Osb.DeprovisionAsync(id, Redis, RedisPlan)).ShouldBeEmptyObject(HttpStatusCode.Gone);
        (await Osb.GetInstanceAsync(id)).ShouldBeOsbError(HttpStatusCode.NotFound);
        (await Osb.UpdateAsync(id, Redis, RedisPlan, new { appendonly = false })).ShouldBeOsbError(HttpStatusCode.NotFound);
        (await Osb.BindAsync(id, Ids.New("b"), Redis, RedisPlan)).ShouldBeOsbError(HttpStatusCode.NotFound);
        Directory.Exists(firstDirectory).ShouldBeFalse();

        var again = await Osb.ProvisionAsync(id, Redis, RedisPlan);
        var second = again.ShouldBeAccepted();
        second.ShouldNotBe(operation);
        (await Osb.WaitAsync(id, second)).Str("state").ShouldBe("succeeded");
        var fetched = await Osb.GetInstanceAsync(id);
        fetched.Status.ShouldBe(HttpStatusCode.OK, fetched.ToString());
        fetched.Body.GetProperty("parameters").EnumerateObject().ShouldBeEmpty("the new instance has the new request's parameters");
        (await Osb.ApiAsync($"/instances/{id}")).Body.GetProperty("directory").GetString().ShouldNotBe(firstDirectory);
    }

    private async Task ShouldStillServeAsync(SharedInstance shared)
    {
        (await Osb.GetInstanceAsync(shared.Id)).Status.ShouldBe(HttpStatusCode.OK);
        var bindingId = Ids.New("ping");
        var credentials = await Osb.BindReadyAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId);
        (await OsbClientExtensions.RedisAsync(credentials, "PING")).ShouldBe("PONG");
        (await Osb.UnbindAsync(shared.Id, bindingId, shared.ServiceId, shared.PlanId)).ShouldBeEmptyObject(HttpStatusCode.OK);
    }
}

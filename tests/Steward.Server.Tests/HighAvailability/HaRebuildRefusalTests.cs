using System.Net;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Rebuild;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>Rebuild and clone work on single-server instances; on an ha plan they are refused precisely and change nothing.</summary>
[Collection("ha")]
public sealed class HaRebuildRefusalTests(HaBrokerFixture broker)
{
    [Fact]
    public async Task Rebuilding_an_ha_instance_or_cloning_into_an_ha_plan_is_refused_and_changes_nothing()
    {
        var instance = await HaInstance.CreateAsync(broker.Server, Catalogs.Redis, HaInstance.RedisHaPlan);
        var before = (await instance.MembersAsync()).Select(m => (m.Name, m.Role, m.Port)).ToList();

        var rebuild = await broker.Server.RequestRebuildAsync(instance.Id, null, null);
        rebuild.Status.ShouldBe(HttpStatusCode.BadRequest, rebuild.ToString());
        rebuild.Str("description")!.ShouldContain("is not supported yet");

        var clone = "ha-clone-" + Guid.NewGuid().ToString("N")[..6];
        var cloned = await broker.Server.Client.ProvisionAsync(clone, Catalogs.Redis, HaInstance.RedisHaPlan, new { clone_from = new { instance_id = instance.Id } });
        cloned.Status.ShouldBe(HttpStatusCode.BadRequest, cloned.ToString());
        cloned.Str("description")!.ShouldContain("cloning into the highly available plan");
        (await broker.Server.Client.ApiAsync($"/instances/{clone}")).Status.ShouldBe(HttpStatusCode.NotFound);

        (await instance.MembersAsync()).Select(m => (m.Name, m.Role, m.Port)).ToList().ShouldBe(before);
        await broker.Server.Client.DeprovisionGoneAsync(instance.Id, Catalogs.Redis, HaInstance.RedisHaPlan);
    }
}

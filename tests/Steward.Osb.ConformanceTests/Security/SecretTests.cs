using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Security;

[Collection(LifecycleCollection.Name)]
public sealed class SecretTests(LifecycleFixture broker)
{
    private OsbClient Osb => broker.Client;

    [Fact]
    public async Task The_broker_log_never_contains_a_binding_password_nor_the_broker_password_after_a_full_lifecycle()
    {
        var passwords = new List<string>();
        var id = Ids.New("redis-secrets");
        var (s, p) = (Catalogs.Redis, Catalogs.RedisStandalone);
        await Osb.ProvisionReadyAsync(id, s, p);
        var bindingId = Ids.New("b");
        passwords.Add((await Osb.BindReadyAsync(id, bindingId, s, p)).GetProperty("password").GetString()!);
        passwords.Add((await Osb.BindReadyAsync(id, Ids.New("b"), s, p, new { read_only = true })).GetProperty("password").GetString()!);
        (await Osb.BindAsync(id, bindingId, s, p)).Status.ShouldBe(HttpStatusCode.OK);
        (await Osb.GetBindingAsync(id, bindingId)).Status.ShouldBe(HttpStatusCode.OK);
        (await Osb.UpdateAsync(id, s, p, new { maxmemory_policy = "allkeys-lru" })).ShouldBeAccepted();
        (await Osb.WaitAsync(id)).Str("state").ShouldBe("succeeded");
        (await Osb.UnbindAsync(id, bindingId, s, p)).Status.ShouldBe(HttpStatusCode.OK);

        var postgres = await broker.PostgreSqlAsync();
        var pgBinding = Ids.New("b");
        passwords.Add((await Osb.BindReadyAsync(postgres.Id, pgBinding, postgres.ServiceId, postgres.PlanId)).GetProperty("password").GetString()!);
        (await Osb.UnbindAsync(postgres.Id, pgBinding, postgres.ServiceId, postgres.PlanId)).Status.ShouldBe(HttpStatusCode.OK);

        // Refused requests log too; a wrong password must not be echoed either.
        (await broker.Server.As(broker.Server.Username, "wrong-" + broker.Server.Password).SendAsync(HttpMethod.Get, "/v2/catalog")).Status.ShouldBe(HttpStatusCode.Unauthorized);

        (await Osb.DeprovisionAsync(id, s, p)).ShouldBeAccepted();
        (await Osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);

        var log = broker.Server.Log;
        log.ShouldNotBeEmpty("the broker log is empty; the test would prove nothing");
        log.ShouldNotContain(broker.Server.Password, customMessage: "the broker password is in the broker log");
        foreach (var password in passwords)
        {
            log.ShouldNotContain(password, customMessage: "a binding password is in the broker log");
        }
    }
}

using System.Net;
using System.Text.Json;
using Steward.Engines.Redis.Resp;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

[Collection("broker")]
public sealed class RedisLifecycleTests(BrokerFixture broker)
{
    private const string S = Catalogs.Redis;
    private const string P = Catalogs.RedisStandalone;
    private OsbClient Osb => broker.Client;

    [Fact]
    public async Task A_Redis_instance_is_provisioned_bound_used_unbound_and_deleted()
    {
        var id = "redis-" + Guid.NewGuid().ToString("N");
        await Osb.ProvisionReadyAsync(id, S, P, new { maxmemory_policy = "allkeys-lru" });
        var credentials = await Osb.BindReadyAsync(id, "w-" + id, S, P);
        credentials.GetProperty("uri").GetString().ShouldStartWith("redis://");

        await using (var conn = await ConnectAsync(credentials))
        {
            (await conn.ExecuteAsync(["SET", "greeting", "hello"], default)).AsText().ShouldBe("OK");
            (await conn.ExecuteAsync(["GET", "greeting"], default)).AsText().ShouldBe("hello");
            var info = (await conn.ExecuteAsync(["INFO", "memory"], default)).AsText()!;
            info.ShouldContain("maxmemory_policy:allkeys-lru");
            info.ShouldContain("maxmemory:67108864");

            // Bindings may not administer the server.
            (await conn.SendAsync(["CONFIG", "SET", "maxmemory", "0"], default)).ShouldBeOfType<RespValue.Error>();
            (await conn.SendAsync(["ACL", "LIST"], default)).ShouldBeOfType<RespValue.Error>();
        }

        // The default user is disabled: no password, no access.
        await using (var anonymous = await RespConnection.ConnectAsync("127.0.0.1", credentials.GetProperty("port").GetInt32(), null, null, default))
        {
            (await anonymous.SendAsync(["GET", "greeting"], default)).ShouldBeOfType<RespValue.Error>().Message.ShouldStartWith("NOAUTH");
        }

        var reader = await Osb.BindReadyAsync(id, "r-" + id, S, P, new { read_only = true });
        await using (var conn = await ConnectAsync(reader))
        {
            (await conn.ExecuteAsync(["GET", "greeting"], default)).AsText().ShouldBe("hello");
            (await conn.SendAsync(["SET", "greeting", "changed"], default)).ShouldBeOfType<RespValue.Error>().Message.ShouldStartWith("NOPERM");
        }

        // Unbind closes the binding's connections and its password stops working.
        var open = await ConnectAsync(credentials);
        (await Osb.UnbindAsync(id, "w-" + id, S, P)).Status.ShouldBe(HttpStatusCode.OK);
        (await Should.ThrowAsync<Exception>(() => open.ExecuteAsync(["GET", "greeting"], default))).ShouldBeEndedByTheServer();
        await open.DisposeAsync();
        (await Should.ThrowAsync<RespException>(() => ConnectAsync(credentials))).Message.ShouldContain("WRONGPASS");

        // Deleting the instance stops its server and removes its files.
        var directory = (await Osb.ApiAsync($"/instances/{id}")).Body.GetProperty("directory").GetString()!;
        await Osb.DeprovisionAsync(id, S, P);
        (await Osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);
        Processes.Under(directory).ShouldBeEmpty();
        Directory.Exists(directory).ShouldBeFalse();
        (await Should.ThrowAsync<Exception>(() => ConnectAsync(reader))).ShouldBeNoServerForTheseCredentials();
    }

    [Fact]
    public async Task Bindings_survive_a_server_restart_because_users_are_kept_in_the_ACL_file()
    {
        var id = "redis-acl-" + Guid.NewGuid().ToString("N");
        await Osb.ProvisionReadyAsync(id, S, P);
        var credentials = await Osb.BindReadyAsync(id, "b-" + id, S, P);

        // A plan change restarts redis-server from its configuration files.
        (await Osb.UpdateAsync(id, S, Catalogs.RedisLarge)).Status.ShouldBe(HttpStatusCode.Accepted);
        (await Osb.WaitAsync(id)).Str("state").ShouldBe("succeeded");
        await using (var conn = await ConnectAsync(credentials))
        {
            (await conn.ExecuteAsync(["INFO", "memory"], default)).AsText()!.ShouldContain("maxmemory:536870912");
        }

        await Osb.DeprovisionAsync(id, S, Catalogs.RedisLarge);
        (await Osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);
    }

    internal static Task<RespConnection> ConnectAsync(JsonElement credentials) => RespConnection.ConnectAsync(
        credentials.GetProperty("host").GetString()!,
        credentials.GetProperty("port").GetInt32(),
        credentials.GetProperty("username").GetString(),
        credentials.GetProperty("password").GetString(),
        default);
}

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

        (await RedisCli.RunAsync(credentials, "SET", "greeting", "hello")).ShouldBe("OK");
        (await RedisCli.RunAsync(credentials, "GET", "greeting")).ShouldBe("hello");
        var info = await RedisCli.RunAsync(credentials, "INFO", "memory");
        info.ShouldContain("maxmemory_policy:allkeys-lru");
        info.ShouldContain("maxmemory:67108864");

        // Bindings may not administer the server.
        (await RedisCli.RunAsync(credentials, "CONFIG", "SET", "maxmemory", "0")).ShouldStartWith("NOPERM");
        (await RedisCli.RunAsync(credentials, "ACL", "LIST")).ShouldStartWith("NOPERM");

        // The default user is disabled: no password, no access.
        (await RedisCli.RunAsync("127.0.0.1", credentials.GetProperty("port").GetInt32(), null, null, "GET", "greeting")).ShouldStartWith("NOAUTH");

        var reader = await Osb.BindReadyAsync(id, "r-" + id, S, P, new { read_only = true });
        (await RedisCli.RunAsync(reader, "GET", "greeting")).ShouldBe("hello");
        (await RedisCli.RunAsync(reader, "SET", "greeting", "changed")).ShouldStartWith("NOPERM");

        // Unbind closes the binding's connections and its password stops working.
        using (var open = await RedisCli.OpenAsync(credentials))
        {
            (await open.SendAsync("PING")).ShouldBe("+PONG");
            (await Osb.UnbindAsync(id, "w-" + id, S, P)).Status.ShouldBe(HttpStatusCode.OK);
            (await open.SendAsync("PING")).ShouldBeNull("the server closes an unbound user's open connection");
        }

        (await RedisCli.RunAsync(credentials, "PING")).ShouldContain("WRONGPASS");

        // Deleting the instance stops its server and removes its files.
        var directory = (await Osb.ApiAsync($"/instances/{id}")).Body.GetProperty("directory").GetString()!;
        await Osb.DeprovisionAsync(id, S, P);
        (await Osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);
        Processes.Under(directory).ShouldBeEmpty();
        Directory.Exists(directory).ShouldBeFalse();
        (await RedisCli.RunAsync(reader, "PING")).ShouldContain("Connection refused");
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
        (await RedisCli.RunAsync(credentials, "INFO", "memory")).ShouldContain("maxmemory:536870912");

        await Osb.DeprovisionAsync(id, S, Catalogs.RedisLarge);
        (await Osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);
    }

    /// <summary>A connection for loading and reading data in other tests (credential checks use <see cref="RedisCli"/>).</summary>
    internal static Task<RespConnection> ConnectAsync(JsonElement credentials) => RespConnection.ConnectAsync(
        credentials.GetProperty("host").GetString()!,
        credentials.GetProperty("port").GetInt32(),
        credentials.GetProperty("username").GetString(),
        credentials.GetProperty("password").GetString(),
        default);
}

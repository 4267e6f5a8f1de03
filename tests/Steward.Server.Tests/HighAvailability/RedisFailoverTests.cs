using System.Text.Json;
using Steward.Engines.Redis.Resp;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>Real Redis masters and replicas, real kills and hangs, a real client writing through the stable endpoint.</summary>
[Collection("ha")]
public sealed class RedisFailoverTests(HaBrokerFixture broker)
{
    [Fact]
    public async Task Killing_the_master_under_write_load_promotes_a_replica_keeps_the_old_master_fenced_and_loses_no_replicated_write()
    {
        var ha = await HaInstance.CreateAsync(broker.Server, Catalogs.Redis, HaInstance.RedisHaPlan);
        var before = await ha.MembersAsync();
        var old = before.Single(m => m.Role == "primary");
        var (port, user, password) = Endpoint(ha.Credentials);
        ha.Credentials.GetProperty("members").GetString()!.Split(',').Length.ShouldBe(3);

        var load = RedisWriteLoad.Start(port, user, password);
        await using (load)
        {
            await load.WaitForMoreAsync(100, TimeSpan.FromSeconds(30));
            Processes.Kill(old.Pid!.Value, 9);
            var killedAt = load.Clock.Elapsed;

            // Same credentials (the binding's ACL user is on every member), same endpoint: writes resume.
            await load.WaitForMoreAsync(100, TimeSpan.FromSeconds(60));
            var resumed = load.Timeline.First(t => t.At > killedAt + TimeSpan.FromMilliseconds(1)).At - killedAt;
            Console.WriteLine($"redis: writes resumed {resumed.TotalSeconds:0.00} s after kill -9");
        }

        var after = await ha.WaitAsync("a new replica streaming", m =>
            m.Count(x => x.Role == "standby" && x.State == "streaming") == 2 && m.Any(x => x.Name == old.Name && x.Role == "fenced"));
        var primary = after.Single(m => m.Role == "primary");
        primary.Name.ShouldNotBe(old.Name);
        after.Single(m => before.All(b => b.Name != m.Name)).Port.ShouldBe(old.Port, "the replacement takes over the fenced member's slot");

        // Replication is asynchronous: writes the master acknowledged but had not sent can be lost (counted and
        // shown), but none that a replica had confirmed (WAIT 1) — the most advanced replica was promoted.
        var stored = await MembersOfSetAsync(port, user, password);
        var lost = load.Acknowledged.Count(id => !stored.Contains(id));
        Console.WriteLine($"redis: {lost} of {load.Acknowledged.Count} acknowledged writes lost; {load.Replicated.Count} confirmed by WAIT 1");
        load.Replicated.Count.ShouldBeGreaterThan(0);
        load.Replicated.Where(id => !stored.Contains(id)).ShouldBeEmpty("a write a replica confirmed (WAIT 1) survives the failover");

        // The old master is fenced and kept: nothing runs in its directory, its files are there, nobody restarted it.
        Processes.Under(old.Directory).ShouldBeEmpty();
        Processes.IsAlive(old.Pid!.Value).ShouldBeFalse();
        File.Exists(Path.Combine(old.Directory, "FENCED")).ShouldBeTrue();
        File.Exists(Path.Combine(old.Directory, "config", "redis.conf")).ShouldBeTrue();
        var incident = (await ha.IncidentsAsync()).First(i => i.GetProperty("preserved_path").GetString() == old.Directory);
        incident.GetProperty("class").GetString().ShouldBe("killed-by-signal");
        var evidence = incident.GetProperty("evidence");
        evidence.GetProperty("replication").GetString().ShouldBe("asynchronous");
        evidence.GetProperty("promoted_member").GetString().ShouldBe(primary.Name);
        incident.GetProperty("summary").GetString()!.ShouldContain("asynchronous");

        // A binding made now reaches every member; its unbinding removes it from every member.
        var bindingId = "b2-" + ha.Id;
        var second = await broker.Server.Client.BindReadyAsync(ha.Id, bindingId, Catalogs.Redis, HaInstance.RedisHaPlan);
        var (_, user2, password2) = Endpoint(second);
        foreach (var m in after.Where(m => m.Role != "fenced"))
        {
            (await AuthenticatesAsync(m.Port, user2, password2)).ShouldBeTrue($"the new binding's user exists on {m.Name}");
        }

        var unbind = await broker.Server.Client.UnbindAsync(ha.Id, bindingId, Catalogs.Redis, HaInstance.RedisHaPlan);
        unbind.Status.ShouldBe(System.Net.HttpStatusCode.OK, unbind.ToString());
        foreach (var m in after.Where(m => m.Role != "fenced"))
        {
            (await AuthenticatesAsync(m.Port, user2, password2)).ShouldBeFalse($"the unbound user is gone from {m.Name}");
        }

        await ha.DeleteAsync();
        Directory.Exists(old.Directory).ShouldBeFalse();
    }

    [Fact]
    public async Task A_master_without_replicas_refuses_writes_and_a_switchover_loses_no_acknowledged_write()
    {
        var ha = await HaInstance.CreateAsync(broker.Server, Catalogs.Redis, HaInstance.RedisHaPlan);
        var (port, user, password) = Endpoint(ha.Credentials);
        var members = await ha.MembersAsync();
        var primary = members.Single(m => m.Role == "primary");
        var standbys = members.Where(m => m.Role == "standby").ToList();

        // Both replicas hang: within min-replicas-max-lag the isolated master stops taking writes.
        foreach (var s in standbys)
        {
            Processes.Kill(s.Pid!.Value, 19);
        }

        string? refusal = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (refusal is null && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await using var conn = await RespConnection.ConnectAsync("127.0.0.1", port, user, password, CancellationToken.None);
            if (await conn.SendAsync(["SADD", "isolated", "x"], CancellationToken.None) is RespValue.Error e)
            {
                refusal = e.Message;
            }
            else
            {
                await Task.Delay(200);
            }
        }

        foreach (var s in standbys)
        {
            Processes.Kill(s.Pid!.Value, 18);
        }

        refusal.ShouldNotBeNull("a master that lost its replicas refuses writes");
        refusal.ShouldStartWith("NOREPLICAS");
        Console.WriteLine($"redis: isolated master refused writes {clock.Elapsed.TotalSeconds:0.0} s after its replicas hung");

        // Replicas back (or replaced): a planned switchover under write load loses nothing the client was told was written.
        await ha.WaitAsync("two replicas streaming", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2);
        var load = RedisWriteLoad.Start(port, user, password);
        string target;
        await using (load)
        {
            await load.WaitForMoreAsync(100, TimeSpan.FromSeconds(60));
            target = (await ha.MembersAsync()).First(m => m.Role == "standby").Name;
            var reply = await broker.Server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{ha.Id}/switchover", new { to = target }, version: null);
            reply.Status.ShouldBe(System.Net.HttpStatusCode.OK, reply.ToString());
            await load.WaitForMoreAsync(100, TimeSpan.FromSeconds(30));
        }

        (await ha.PrimaryAsync()).Name.ShouldBe(target);
        await ha.WaitAsync("the old master streaming as a replica", m => m.Any(x => x.Name == primary.Name && x.Role == "standby" && x.State == "streaming"));
        var stored = await MembersOfSetAsync(port, user, password);
        load.Acknowledged.Where(id => !stored.Contains(id)).ShouldBeEmpty("a switchover waits for the replica: no acknowledged write is lost");
        await ha.DeleteAsync();
    }

    private static (int Port, string User, string Password) Endpoint(JsonElement credentials) =>
        (credentials.GetProperty("port").GetInt32(), credentials.GetProperty("username").GetString()!, credentials.GetProperty("password").GetString()!);

    private static async Task<HashSet<long>> MembersOfSetAsync(int port, string user, string password)
    {
        await using var conn = await RespConnection.ConnectAsync("127.0.0.1", port, user, password, CancellationToken.None);
        var reply = await conn.ExecuteAsync(["SMEMBERS", RedisWriteLoad.Key], CancellationToken.None);
        return [.. ((RespValue.Array)reply).Items!.Select(v => long.Parse(v.AsText()!, System.Globalization.CultureInfo.InvariantCulture))];
    }

    private static async Task<bool> AuthenticatesAsync(int port, string user, string password)
    {
        try
        {
            await using var conn = await RespConnection.ConnectAsync("127.0.0.1", port, user, password, CancellationToken.None);
            return true;
        }
        catch (RespException)
        {
            return false;
        }
    }
}

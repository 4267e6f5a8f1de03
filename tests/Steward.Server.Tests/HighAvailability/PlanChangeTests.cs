using Steward.Engines.Redis.Resp;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>OSB plan updates between standalone and ha add or remove members and keep the data and the credentials.</summary>
[Collection("ha")]
public sealed class PlanChangeTests(HaBrokerFixture broker)
{
    [Fact]
    public async Task A_standalone_Redis_becomes_ha_and_back_keeping_its_data_its_port_and_its_credentials_even_across_a_broker_kill()
    {
        var osb = broker.Server.Client;
        var id = "conv-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        var port = credentials.GetProperty("port").GetInt32();
        var user = credentials.GetProperty("username").GetString()!;
        var password = credentials.GetProperty("password").GetString()!;
        await using (var conn = await RespConnection.ConnectAsync("127.0.0.1", port, user, password, CancellationToken.None))
        {
            for (var i = 0; i < 500; i++)
            {
                await conn.ExecuteAsync(["SET", $"k{i}", $"v{i}"], CancellationToken.None);
            }
        }

        // standalone → ha; the broker is killed once the members exist and the change finishes after its restart.
        var started = await osb.UpdateAsync(id, Catalogs.Redis, HaInstance.RedisHaPlan);
        started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("last_operation").GetProperty("description").GetString() is not { } d || !d.Contains("standbys", StringComparison.Ordinal))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the plan change reaches the standbys");
            await Task.Delay(20);
        }

        await broker.Server.KillAsync();
        await broker.Server.StartProcessAsync();
        (await osb.WaitAsync(id, started.Str("operation"), 180)).Str("state").ShouldBe("succeeded");
        var ha = HaInstance.Attach(broker.Server, id, credentials, Catalogs.Redis, HaInstance.RedisHaPlan);
        var members = await ha.WaitAsync("two replicas streaming", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2 && m.Count(x => x.Role == "primary") == 1);
        members.Count.ShouldBe(3);
        (await KeysAsync(port, user, password)).ShouldBe(500, "every key is there through the same port and credentials");
        foreach (var m in members)
        {
            (await KeysAsync(m.Port, user, password)).ShouldBe(500, $"{m.Name} holds every key");
        }

        // A parameter change of the ha instance: CONFIG SET on every member (and its file), no restart.
        var tuned = await osb.UpdateAsync(id, Catalogs.Redis, null, new { maxmemory_policy = "allkeys-lru" });
        tuned.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, tuned.ToString());
        (await osb.WaitAsync(id, tuned.Str("operation"), 180)).Str("state").ShouldBe("succeeded");
        foreach (var m in await ha.MembersAsync())
        {
            (await InfoFieldAsync(m.Port, user, password, "memory", "maxmemory_policy")).ShouldBe("allkeys-lru", $"{m.Name} runs the new policy");
            m.Pid.ShouldBe(members.Single(x => x.Name == m.Name).Pid, $"{m.Name} took it without a restart");
            File.ReadAllText(Path.Combine(m.Directory, "config", "redis.conf")).ShouldContain("maxmemory-policy allkeys-lru");
        }

        // ha → standalone: the primary's data stays, the members go.
        await using (var conn = await RespConnection.ConnectAsync("127.0.0.1", port, user, password, CancellationToken.None))
        {
            await conn.ExecuteAsync(["SET", "written-on-ha", "1"], CancellationToken.None);
        }

        var back = await osb.UpdateAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        back.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, back.ToString());
        (await osb.WaitAsync(id, back.Str("operation"), 180)).Str("state").ShouldBe("succeeded");
        (await KeysAsync(port, user, password)).ShouldBe(501, "the keys, the one written on ha included, through the same port and credentials");
        (await osb.ApiAsync($"/instances/{id}/members")).Body.GetProperty("members").GetArrayLength().ShouldBe(0);
        foreach (var m in members)
        {
            Processes.Under(m.Directory).ShouldBeEmpty($"{m.Name} no longer runs");
        }

        (await osb.WaitAsync(id, (await osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone)).Str("operation"))).Status.ShouldBe(System.Net.HttpStatusCode.Gone);
    }

    [Fact]
    public async Task A_standalone_PostgreSQL_becomes_ha_with_its_rows_and_commits_synchronously()
    {
        var osb = broker.Server.Client;
        var id = "convpg-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var uri = credentials.GetProperty("uri").GetString()!;
        var load = await WriteLoad.StartAsync(uri);
        await using (load)
        {
            await load.WaitForMoreAsync(200, TimeSpan.FromSeconds(30));
        }

        var started = await osb.UpdateAsync(id, Catalogs.PostgreSql, HaInstance.HaPlan, new { max_connections = 50 });
        started.Status.ShouldBe(System.Net.HttpStatusCode.BadRequest, "a plan change that adds servers does not change parameters at the same time");
        started = await osb.UpdateAsync(id, Catalogs.PostgreSql, HaInstance.HaPlan);
        (await osb.WaitAsync(id, started.Str("operation"), 180)).Str("state").ShouldBe("succeeded");
        var ha = HaInstance.Attach(broker.Server, id, credentials, Catalogs.PostgreSql, HaInstance.HaPlan);
        await ha.WaitAsync("two standbys streaming", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2);
        var stored = await ha.StoredIdsAsync();
        load.Acknowledged.Where(x => !stored.Contains(x)).ShouldBeEmpty("every row written on the single server is on the ha primary");

        // Synchronous now: a commit returns once a standby has it.
        await using (var conn = new Npgsql.NpgsqlConnection(WriteLoad.ToConnectionString(uri)))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("SHOW synchronous_standby_names", conn);
            ((string)(await cmd.ExecuteScalarAsync())!).ShouldStartWith("ANY 1");
        }

        await ha.DeleteAsync();
    }

    private static async Task<string?> InfoFieldAsync(int port, string user, string password, string section, string field)
    {
        await using var conn = await RespConnection.ConnectAsync("127.0.0.1", port, user, password, CancellationToken.None);
        var text = (await conn.ExecuteAsync(["INFO", section], CancellationToken.None)).AsText() ?? string.Empty;
        return text.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal))?[(field.Length + 1)..];
    }

    private static async Task<long> KeysAsync(int port, string user, string password)
    {
        await using var conn = await RespConnection.ConnectAsync("127.0.0.1", port, user, password, CancellationToken.None);
        return ((RespValue.Integer)await conn.ExecuteAsync(["DBSIZE"], CancellationToken.None)).Value;
    }
}

using System.Text.Json;
using Npgsql;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>Real primaries and standbys, real kills and hangs, a real client writing through the stable endpoint.</summary>
[Collection("ha")]
public sealed class PostgreSqlFailoverTests(HaBrokerFixture broker)
{
    [Fact]
    public async Task Killing_the_primary_under_write_load_fails_new_connections_fast_loses_no_acknowledged_write_fences_the_old_primary_and_rebuilds_a_standby()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        var before = await ha.MembersAsync();
        var old = before.Single(m => m.Role == "primary");
        Directory.Exists(old.Directory).ShouldBeTrue();
        var multihost = ha.Credentials.GetProperty("multihost_uri").GetString()!;
        multihost.ShouldContain("target_session_attrs=read-write");
        foreach (var m in before)
        {
            multihost.ShouldContain($"127.0.0.1:{m.Port}");
        }

        var load = await WriteLoad.StartAsync(ha.Uri);
        await using (load)
        {
            await load.WaitForMoreAsync(50, TimeSpan.FromSeconds(30));
            Processes.Kill(old.Pid!.Value, 9);
            var killedAt = load.Clock.Elapsed;
            var acknowledgedAtKill = load.Acknowledged.Count;

            // A client opening a new connection right after the crash: each attempt either reaches a working primary
            // or fails fast — never held for seconds by the endpoint retrying the dead server (HAProxy's default
            // three retries with a 1 s turn-around held it ≥ 3 s).
            var attempts = await ConnectProbe.UntilPrimaryAsync(ha.Uri, TimeSpan.FromSeconds(60));
            Console.WriteLine($"after kill -9: {attempts.Count} connection attempts, failures took at most {attempts.SkipLast(1).Select(a => a.Took.TotalSeconds).DefaultIfEmpty(0).Max():0.000} s, the last reached the new primary");
            attempts[^1].Error.ShouldBeNull();
            foreach (var failed in attempts.SkipLast(1))
            {
                failed.Took.ShouldBeLessThan(TimeSpan.FromSeconds(2), $"a connection attempt through the endpoint failed only after {failed.Took.TotalSeconds:0.00} s ({failed.Error})");
            }

            // Same credentials, same endpoint: writes resume.
            await load.WaitForMoreAsync(50, TimeSpan.FromSeconds(60));
            var resumed = load.Timeline.First(t => t.At > killedAt + TimeSpan.FromMilliseconds(1)).At - killedAt;
            Console.WriteLine($"writes resumed {resumed.TotalSeconds:0.00} s after kill -9 ({acknowledgedAtKill} acknowledged before)");
        }

        var after = await ha.WaitAsync("a new standby streaming", m =>
            m.Count(x => x.Role == "standby" && x.State == "streaming") == 2 && m.Any(x => x.Name == old.Name && x.Role == "fenced"));
        var primary = after.Single(m => m.Role == "primary");
        primary.Name.ShouldNotBe(old.Name);
        var replacement = after.Single(m => before.All(b => b.Name != m.Name));
        replacement.Port.ShouldBe(old.Port, "the replacement takes over the fenced member's slot, so the multi-host URI stays valid");

        // Every acknowledged write is on the new primary.
        var stored = await ha.StoredIdsAsync();
        var missing = load.Acknowledged.Where(id => !stored.Contains(id)).ToList();
        missing.ShouldBeEmpty($"{missing.Count} of {load.Acknowledged.Count} acknowledged writes lost");

        // The old primary is fenced and preserved: nothing runs in its directory, its files are there.
        Processes.Under(old.Directory).ShouldBeEmpty();
        File.Exists(Path.Combine(old.Directory, "FENCED")).ShouldBeTrue();
        File.Exists(Path.Combine(old.Directory, "data", "PG_VERSION")).ShouldBeTrue();
        var incident = (await ha.IncidentsAsync()).First(i => i.GetProperty("preserved_path").GetString() == old.Directory);
        incident.GetProperty("class").GetString().ShouldBe("killed-by-signal");
        Kinds(incident).ShouldContain("fenced");
        Kinds(incident).ShouldContain("promoted");
        var evidence = incident.GetProperty("evidence");
        evidence.GetProperty("timeline_after").GetInt64().ShouldBeGreaterThan(evidence.GetProperty("timeline_before").GetInt64());
        evidence.GetProperty("standbys_at_failover").GetArrayLength().ShouldBe(2);
        evidence.GetProperty("promoted_member").GetString().ShouldBe(primary.Name);
        await WaitResolvedAsync(ha, incident.GetProperty("id").GetString()!);

        // Clients that take the multi-host URI find the new primary too.
        await using (var conn = new NpgsqlConnection(MultiHost(multihost)))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT NOT pg_is_in_recovery()", conn);
            ((bool)(await cmd.ExecuteScalarAsync())!).ShouldBeTrue();
        }

        (await ha.AcceptsWritesAsync(replacement.Port)).ShouldBe(false, "the member on the old primary's port is now a standby");
        await ha.DeleteAsync();
        Directory.Exists(old.Directory).ShouldBeFalse();
    }

    [Fact]
    public async Task A_hung_primary_is_fenced_and_takes_no_write_after_SIGCONT()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        var old = await ha.PrimaryAsync();
        var load = await WriteLoad.StartAsync(ha.Uri);
        await using (load)
        {
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(30));
            Processes.Kill(old.Pid!.Value, 19); // SIGSTOP: the postmaster hangs, its backends do not
            await ha.WaitAsync("another primary", m => m.Any(x => x.Role == "primary" && x.Name != old.Name));
            Processes.Kill(old.Pid!.Value, 18); // SIGCONT
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(60));
        }

        Processes.Under(old.Directory).ShouldBeEmpty("SIGKILL ended the stopped server and every backend it had");
        Processes.IsAlive(old.Pid!.Value).ShouldBeFalse("the old postmaster is dead (at most a zombie nobody reaped), not continued");
        var stored = await ha.StoredIdsAsync();
        load.Acknowledged.Where(id => !stored.Contains(id)).ShouldBeEmpty();
        var incident = (await ha.IncidentsAsync()).First(i => i.GetProperty("preserved_path").GetString() == old.Directory);
        incident.GetProperty("class").GetString().ShouldBe("unhealthy-but-running");
        await ha.DeleteAsync();
    }

    [Fact]
    public async Task Killing_a_standby_keeps_the_primary_committing_and_the_standby_is_replaced_then_a_switchover_loses_no_write()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        var primary = await ha.PrimaryAsync();
        var standby = (await ha.MembersAsync()).First(m => m.Role == "standby");
        var load = await WriteLoad.StartAsync(ha.Uri);
        await using (load)
        {
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(30));
            var errors = load.Errors;
            Processes.Kill(standby.Pid!.Value, 9);
            await load.WaitForMoreAsync(100, TimeSpan.FromSeconds(30));
            load.Errors.ShouldBe(errors, "losing one of two synchronous standbys (ANY 1) does not block or fail a commit");
            await ha.WaitAsync("the standby replaced", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2 && m.Any(x => x.Name == standby.Name && x.Role == "fenced"));
            (await ha.PrimaryAsync()).Name.ShouldBe(primary.Name);

            // Planned switchover while the client keeps writing.
            var target = (await ha.MembersAsync()).First(m => m.Role == "standby").Name;
            var reply = await broker.Server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{ha.Id}/switchover", new { to = target }, version: null);
            reply.Status.ShouldBe(System.Net.HttpStatusCode.OK, reply.ToString());
            reply.Str("to").ShouldBe(target);
            await load.WaitForMoreAsync(50, TimeSpan.FromSeconds(30));
            (await ha.PrimaryAsync()).Name.ShouldBe(target);
            await ha.WaitAsync("the old primary streaming as a standby", m => m.Any(x => x.Name == primary.Name && x.Role == "standby" && x.State == "streaming"));
        }

        var stored = await ha.StoredIdsAsync();
        load.Acknowledged.Where(id => !stored.Contains(id)).ShouldBeEmpty("a switchover loses no acknowledged write");
        (await broker.Server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{ha.Id}/switchover", new { to = standby.Name }, version: null)).Status
            .ShouldBe(System.Net.HttpStatusCode.BadRequest, "a fenced member cannot become the primary");
        await ha.DeleteAsync();
    }

    private static List<string> Kinds(JsonElement incident) =>
        [.. incident.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()!)];

    private static async Task WaitResolvedAsync(HaInstance ha, string incidentId)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await ha.IncidentsAsync()).Single(i => i.GetProperty("id").GetString() == incidentId).GetProperty("state").GetString() != "resolved")
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the failover incident is resolved once redundancy is back");
            await Task.Delay(100);
        }
    }

    private static string MultiHost(string uri)
    {
        var u = uri["postgresql://".Length..];
        var at = u.LastIndexOf('@');
        var cred = u[..at].Split(':', 2);
        var rest = u[(at + 1)..];
        var hosts = rest[..rest.IndexOf('/', StringComparison.Ordinal)];
        var database = rest[(rest.IndexOf('/', StringComparison.Ordinal) + 1)..rest.IndexOf('?', StringComparison.Ordinal)];
        return new NpgsqlConnectionStringBuilder
        {
            Host = string.Join(",", hosts.Split(',').Select(h => h.Split(':')[0] + ":" + h.Split(':')[1])),
            Username = Uri.UnescapeDataString(cred[0]),
            Password = Uri.UnescapeDataString(cred[1]),
            Database = database,
            TargetSessionAttributes = "read-write",
            Pooling = false,
        }.ConnectionString;
    }
}

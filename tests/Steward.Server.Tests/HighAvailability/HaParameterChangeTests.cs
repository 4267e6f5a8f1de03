using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>Parameter changes of ha instances, rolled over the members under a real write load, and across a broker kill.</summary>
[Collection("ha")]
public sealed class HaParameterChangeTests(HaBrokerFixture broker)
{
    [Fact]
    public async Task Lowering_then_raising_max_connections_under_write_load_reaches_every_member_and_loses_no_acknowledged_write()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        var load = await WriteLoad.StartAsync(ha.Uri);
        await using (load)
        {
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(30));

            // Lowered: standbys must hold at least the primary's value, so the primary restarts first, in place;
            // statement_timeout needs only a reload.
            var primary = await ha.PrimaryAsync();
            await UpdateAsync(ha, new { max_connections = 60, statement_timeout_ms = 60000 });
            await ExpectOnEveryMemberAsync(ha, "max_connections", "60");
            await ExpectOnEveryMemberAsync(ha, "statement_timeout", "1min");
            (await ha.PrimaryAsync()).Name.ShouldBe(primary.Name, "a lowered max_connections restarts the primary in place, no switchover");
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(60));

            // Raised: the standbys restart one at a time, then a switchover restarts the old primary as a standby.
            await UpdateAsync(ha, new { max_connections = 80 });
            await ExpectOnEveryMemberAsync(ha, "max_connections", "80");
            var after = await ha.WaitAsync("one primary and two streaming standbys", m => m.Count(x => x.Role == "primary") == 1 && m.Count(x => x.Role == "standby" && x.State == "streaming") == 2);
            after.Single(m => m.Role == "primary").Name.ShouldNotBe(primary.Name, "the primary took a raised max_connections by a switchover");
            after.Single(m => m.Name == primary.Name).Role.ShouldBe("standby", "the old primary rejoined as a standby");
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(60));
        }

        var stored = await ha.StoredIdsAsync();
        load.Acknowledged.Where(id => !stored.Contains(id)).ShouldBeEmpty("a rolling restart loses no acknowledged write");
        await ha.DeleteAsync();
    }

    [Fact]
    public async Task Killing_the_broker_during_the_switchover_of_a_parameter_change_finishes_it_at_the_next_start_with_one_primary()
    {
        var ha = await HaInstance.CreateAsync(broker.Server, parameters: new { max_connections = 50 });
        var ports = (await ha.MembersAsync()).Select(m => m.Port).ToList();
        var osb = broker.Server.Client;
        var load = await WriteLoad.StartAsync(ha.Uri);
        await using (load)
        {
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(30));
            var started = await osb.UpdateAsync(ha.Id, Catalogs.PostgreSql, null, new { max_connections = 70 });
            started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());

            // The broker dies in the riskiest step: the old primary stopped, the target maybe promoted.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while ((await osb.ApiAsync($"/instances/{ha.Id}")).Body.GetProperty("last_operation").GetProperty("description").GetString() is not { } d || !d.Contains("switching over", StringComparison.Ordinal))
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(120), "the change reaches its switchover");
                await Task.Delay(20);
            }

            await broker.Server.KillAsync();
            var primaries = 0;
            foreach (var port in ports)
            {
                primaries += await ha.AcceptsWritesAsync(port) == true ? 1 : 0;
            }

            primaries.ShouldBeLessThanOrEqualTo(1, "never two primaries, even with the broker dead mid-switchover");
            await broker.Server.StartProcessAsync();
            var done = await osb.WaitAsync(ha.Id, started.Str("operation"), 240);
            done.Str("state").ShouldBe("succeeded", done.ToString());
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(60));
        }

        await ExpectOnEveryMemberAsync(ha, "max_connections", "70");
        var members = await ha.WaitAsync("one primary and two streaming standbys", m => m.Count(x => x.Role == "primary") == 1 && m.Count(x => x.Role == "standby" && x.State == "streaming") == 2);
        var writable = new List<int>();
        foreach (var m in members.Where(m => m.Role != "fenced"))
        {
            if (await ha.AcceptsWritesAsync(m.Port) == true)
            {
                writable.Add(m.Port);
            }
        }

        writable.ShouldBe([members.Single(m => m.Role == "primary").Port], "exactly the recorded primary takes writes");
        var stored = await ha.StoredIdsAsync();
        load.Acknowledged.Where(id => !stored.Contains(id)).ShouldBeEmpty();
        await ha.DeleteAsync();
    }

    private async Task UpdateAsync(HaInstance ha, object parameters)
    {
        var started = await broker.Server.Client.UpdateAsync(ha.Id, Catalogs.PostgreSql, null, parameters);
        started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());
        var done = await broker.Server.Client.WaitAsync(ha.Id, started.Str("operation"), 240);
        done.Str("state").ShouldBe("succeeded", done.ToString());
    }

    /// <summary>Every live member's server runs with the value (asked directly on its port, not through the endpoint).</summary>
    private static async Task ExpectOnEveryMemberAsync(HaInstance ha, string setting, string expected)
    {
        foreach (var member in (await ha.MembersAsync()).Where(m => m.Role is "primary" or "standby"))
        {
            (await ha.ShowAsync(member.Port, setting)).ShouldBe(expected, $"{setting} on {member.Name} ({member.Role}, port {member.Port})");
        }
    }
}

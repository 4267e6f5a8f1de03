using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>kill -9 of the broker in the middle of a failover: at the next start it rebuilds its view from the servers.</summary>
[Collection("ha")]
public sealed class BrokerCrashFailoverTests(HaBrokerFixture broker)
{
    [Fact]
    public async Task Killing_the_broker_during_a_failover_never_leaves_two_primaries_and_the_failover_completes_after_restart()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        var old = await ha.PrimaryAsync();
        var ports = (await ha.MembersAsync()).Select(m => m.Port).ToList();
        var load = await WriteLoad.StartAsync(ha.Uri);
        await using (load)
        {
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(30));
            Processes.Kill(old.Pid!.Value, 9);

            // The broker dies as soon as it has fenced the old primary, before or during the promotion.
            await ha.WaitAsync("the old primary fenced", m => m.Any(x => x.Name == old.Name && x.Role == "fenced"), seconds: 30);
            await broker.Server.KillAsync();
            var primaries = 0;
            foreach (var port in ports)
            {
                primaries += await ha.AcceptsWritesAsync(port) == true ? 1 : 0;
            }

            primaries.ShouldBeLessThanOrEqualTo(1, "never two primaries, even with the broker dead");
            await broker.Server.StartProcessAsync();
            await ha.WaitAsync("a new primary and two streaming standbys", m =>
                m.Count(x => x.Role == "primary") == 1 && m.Count(x => x.Role == "standby" && x.State == "streaming") == 2);
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(60));
        }

        var members = await ha.MembersAsync();
        var writable = new List<int>();
        foreach (var m in members.Where(m => m.Role != "fenced"))
        {
            if (await ha.AcceptsWritesAsync(m.Port) == true)
            {
                writable.Add(m.Port);
            }
        }

        writable.ShouldBe([members.Single(m => m.Role == "primary").Port]);
        var stored = await ha.StoredIdsAsync();
        load.Acknowledged.Where(id => !stored.Contains(id)).ShouldBeEmpty();
        Processes.Under(old.Directory).ShouldBeEmpty();
        await ha.DeleteAsync();
    }
}

using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Observability;

namespace Steward.Server.Tests.Supervision;

/// <summary>
/// The supervision loops (supervisor every 200 ms, HA controller every 250 ms, backup and drill schedulers every second)
/// read the instances from the state store only when one changed: an idle broker does not list every instance on
/// every tick, and a new instance is still seen at once. Nor does a check ask the store whether an operation holds the
/// instance: the operation runner answers from memory.
/// </summary>
public sealed class InstanceListingTests
{
    [Fact]
    public async Task An_idle_broker_reads_its_instances_only_after_one_changed_and_still_sees_a_new_one()
    {
        // A check at every tick, so that 25 ticks are about 25 checks.
        await using var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_HEALTH_INTERVAL_MS"] = "200" });
        var osb = server.Client;
        var first = "list-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(first, Catalogs.Redis, Catalogs.RedisStandalone);
        await WaitHealthyAsync(osb, first);

        var before = await ObservedBroker.ScrapeAsync(server);
        var ticks = before.Value("steward_supervisor_ticks_total");
        var listings = before.Value("steward_state_instance_listings_total");
        var lookups = before.Value("steward_supervisor_operation_lookups_total");
        var checkedAt = await LastCheckAsync(osb, first);
        Exposition after;
        do
        {
            await Task.Delay(200);
            after = await ObservedBroker.ScrapeAsync(server);
        }
        while (after.Value("steward_supervisor_ticks_total") < ticks + 25);

        // 25 supervisor ticks, about 20 of the HA controller and 5 of each scheduler: one listing per tick would be
        // about 55. Nothing changed, so none is needed; one is allowed for the 30 s safety re-read.
        (after.Value("steward_state_instance_listings_total") - listings).ShouldBeLessThanOrEqualTo(1);
        (await LastCheckAsync(osb, first)).ShouldNotBe(checkedAt, "the instance was checked meanwhile");
        after.Value("steward_supervisor_operation_lookups_total").ShouldBe(lookups, "checks asked the state store whether an operation holds the instance");

        var second = "list-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(second, Catalogs.Redis, Catalogs.RedisStandalone);
        await WaitHealthyAsync(osb, second);
        (await ObservedBroker.ScrapeAsync(server)).Value("steward_state_instance_listings_total").ShouldBeGreaterThan(after.Value("steward_state_instance_listings_total"));
    }

    private static async Task<string?> LastCheckAsync(OsbClient osb, string id) =>
        (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("health").GetProperty("last_check").GetString();

    /// <summary>The supervisor reports the instance healthy: it saw the instance in its listing and checked it.</summary>
    private static async Task WaitHealthyAsync(OsbClient osb, string id)
    {
        var deadline = TimeProvider.System.GetTimestamp();
        while ((await osb.ApiAsync("/health")).Body.GetProperty("instances").EnumerateArray()
            .FirstOrDefault(i => i.GetProperty("id").GetString() == id) is not { ValueKind: System.Text.Json.JsonValueKind.Object } found
            || found.GetProperty("health").GetProperty("status").GetString() != "healthy")
        {
            TimeProvider.System.GetElapsedTime(deadline).ShouldBeLessThan(TimeSpan.FromSeconds(60), $"{id} healthy");
            await Task.Delay(100);
        }
    }
}

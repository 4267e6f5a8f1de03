using System.Globalization;
using System.Net;
using Steward.Server.Tests.HighAvailability;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

/// <summary>A request for servers the machine has no room for is refused at once, precisely, and creates nothing.</summary>
public sealed class AdmissionTests
{
    [Fact]
    public async Task Without_enough_ports_provision_and_a_plan_change_to_ha_are_refused_at_once_and_create_nothing()
    {
        await using var server = await StewardServer.StartAsync();
        var first = int.Parse(server.PortRange.Split('-')[0], CultureInfo.InvariantCulture);
        await server.StopAsync();
        await server.StartProcessAsync(new Dictionary<string, string> { ["STEWARD_PORT_RANGE"] = $"{first}-{first + 1}" });
        var osb = server.Client;

        var pg = "pg-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(pg, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);

        // A primary, two standbys and the stable endpoint need four ports; one is left.
        var ha = "ha-" + Guid.NewGuid().ToString("N")[..8];
        var refused = await osb.ProvisionAsync(ha, Catalogs.PostgreSql, HaInstance.HaPlan);
        refused.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, refused.Text);
        refused.Str("description")!.ShouldContain($"1 of the ports {first}-{first + 1} are free and this needs 4 (STEWARD_PORT_RANGE)");
        (await osb.GetInstanceAsync(ha)).Status.ShouldBe(HttpStatusCode.NotFound, "a refused provision records nothing");

        // The change to ha adds two standbys and the endpoint: three ports.
        var update = await osb.UpdateAsync(pg, Catalogs.PostgreSql, HaInstance.HaPlan);
        update.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, update.Text);
        update.Str("description")!.ShouldContain("this needs 3 (STEWARD_PORT_RANGE)");
        (await osb.ApiAsync($"/instances/{pg}")).Body.GetProperty("plan_id").GetString().ShouldBe(Catalogs.PostgreSqlStandalone);
        server.InstanceDirectories().Count.ShouldBe(1);

        // The last port still serves a one-server instance; after it, the next is refused too.
        var redis = "redis-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(redis, Catalogs.Redis, Catalogs.RedisStandalone);
        var full = await osb.ProvisionAsync("redis-" + Guid.NewGuid().ToString("N")[..8], Catalogs.Redis, Catalogs.RedisStandalone);
        full.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, full.Text);
        full.Str("description")!.ShouldContain("0 of the ports");
        server.InstanceDirectories().Count.ShouldBe(2);
    }

    [Fact]
    public async Task Below_the_memory_or_disk_floor_a_provision_is_refused_naming_what_ran_out()
    {
        await using var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_ADMISSION_MIN_FREE_MEMORY_MB"] = "1048576" });
        var osb = server.Client;
        var id = "redis-" + Guid.NewGuid().ToString("N")[..8];

        var memory = await osb.ProvisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        memory.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, memory.Text);
        memory.Str("description")!.ShouldMatch(@"^this machine has no room for another instance: \d+ MiB of memory are available, below the 1048576 MiB floor \(STEWARD_ADMISSION_MIN_FREE_MEMORY_MB\)\. Nothing was created");

        await server.StopAsync();
        await server.StartProcessAsync(new Dictionary<string, string> { ["STEWARD_ADMISSION_MIN_FREE_MEMORY_MB"] = "0", ["STEWARD_ADMISSION_MIN_FREE_DISK_MB"] = "104857600" });
        var disk = await osb.ProvisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        disk.Status.ShouldBe(HttpStatusCode.ServiceUnavailable, disk.Text);
        disk.Str("description")!.ShouldMatch(@"\d+ MiB are free on the file system of .+, below the 104857600 MiB floor \(STEWARD_ADMISSION_MIN_FREE_DISK_MB\)");
        (await osb.GetInstanceAsync(id)).Status.ShouldBe(HttpStatusCode.NotFound);
        server.InstanceDirectories().ShouldBeEmpty();

        // With room again, the same request provisions.
        await server.StopAsync();
        await server.StartProcessAsync(new Dictionary<string, string> { ["STEWARD_ADMISSION_MIN_FREE_MEMORY_MB"] = "0", ["STEWARD_ADMISSION_MIN_FREE_DISK_MB"] = "1" });
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }
}

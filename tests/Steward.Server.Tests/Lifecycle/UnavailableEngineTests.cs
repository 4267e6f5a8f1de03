using System.Net;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

/// <summary>A data service whose binaries are missing leaves the catalog; the broker and the other services work.</summary>
public sealed class UnavailableEngineTests
{
    [Fact]
    public async Task A_broker_without_PostgreSQL_binaries_starts_offers_only_Redis_and_refuses_PostgreSQL_precisely()
    {
        var emptyBinDir = Directory.CreateTempSubdirectory("no-postgres-").FullName;
        try
        {
            await using var server = await StewardServer.StartAsync();
            var osb = server.Client;
            var existing = "pg-" + Guid.NewGuid().ToString("N")[..8];
            await osb.ProvisionReadyAsync(existing, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);

            // The PostgreSQL binaries go away (an upgrade removed them, a wrong setting): the broker still starts.
            await server.StopAsync();
            await server.StartProcessAsync(new Dictionary<string, string> { ["STEWARD_POSTGRESQL_BIN_DIR"] = emptyBinDir });

            var catalog = await osb.SendAsync(HttpMethod.Get, "/v2/catalog");
            catalog.Status.ShouldBe(HttpStatusCode.OK);
            catalog.Body.GetProperty("services").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe([Catalogs.Redis]);
            server.Log.ShouldContain($"Service postgresql is left out of the catalog: postgres and initdb not found in {emptyBinDir}");

            var refused = await osb.ProvisionAsync("pg-" + Guid.NewGuid().ToString("N")[..8], Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
            refused.Status.ShouldBe(HttpStatusCode.BadRequest, refused.Text);
            refused.Str("description")!.ShouldContain("service 'postgresql'");
            refused.Str("description")!.ShouldContain($"is not available on this broker: postgres and initdb not found in {emptyBinDir}");
            server.InstanceDirectories().Count.ShouldBe(1, "a refused provision creates nothing");

            // The existing instance is still listed and described, shown as not supervised, with the reason.
            var listed = await osb.ApiAsync("/instances");
            listed.Status.ShouldBe(HttpStatusCode.OK, listed.Text);
            var described = (await osb.ApiAsync($"/instances/{existing}")).Body;
            described.GetProperty("service").GetString().ShouldBe("postgresql");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!described.GetProperty("health").GetProperty("detail").GetString()!.StartsWith("not supervised", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(100);
                described = (await osb.ApiAsync($"/instances/{existing}")).Body;
            }

            described.GetProperty("health").GetProperty("detail").GetString().ShouldBe($"not supervised: postgres and initdb not found in {emptyBinDir} (STEWARD_POSTGRESQL_BIN_DIR or the newest /usr/lib/postgresql/N/bin); install them with: apt-get install postgresql-15");

            var id = "redis-" + Guid.NewGuid().ToString("N")[..8];
            await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
            (await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("uri").GetString()!.ShouldStartWith("redis://");
            (await osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone)).Status.ShouldBe(HttpStatusCode.Accepted);
            (await osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);
        }
        finally
        {
            Directory.Delete(emptyBinDir, recursive: true);
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Supervision;

/// <summary>
/// Supervision with many instances on one broker (50 Redis + 5 PostgreSQL, the CI-sized cut of the density
/// benchmark): a server killed among them is detected and classified within its bound, restarted, and the others
/// stay healthy and untouched. The density run is bench/scripts/density.sh (docs/scale.md).
/// </summary>
public sealed class SupervisionAtScaleTests
{
    private const int RedisCount = 50;
    private const int PostgreSqlCount = 5;

    [Fact]
    public async Task A_killed_instance_among_55_is_detected_classified_and_restarted_while_the_others_stay_healthy()
    {
        await using var server = await StewardServer.StartAsync(new Dictionary<string, string>(SupervisedBrokerFixture.Settings)
        {
            ["STEWARD_HEALTH_INTERVAL_MS"] = "1000",
            ["STEWARD_HEALTH_TIMEOUT_MS"] = "3000",
        });
        var osb = server.Client;
        var redis = Enumerable.Range(0, RedisCount).Select(i => $"scale-r{i:00}-{Guid.NewGuid():N}"[..20]).ToList();
        var postgres = Enumerable.Range(0, PostgreSqlCount).Select(i => $"scale-p{i}-{Guid.NewGuid():N}"[..20]).ToList();
        using (var parallel = new SemaphoreSlim(8))
        {
            await Task.WhenAll(
                redis.Select(id => (id, Catalogs.Redis, Catalogs.RedisStandalone))
                    .Concat(postgres.Select(id => (id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)))
                    .Select(async x =>
                    {
                        await parallel.WaitAsync();
                        try
                        {
                            await osb.ProvisionReadyAsync(x.id, x.Item2, x.Item3);
                        }
                        finally
                        {
                            parallel.Release();
                        }
                    }));
        }

        var all = redis.Concat(postgres).ToList();
        await WaitAsync(async () => (await HealthAsync(osb)).Count(h => all.Contains(h.Key) && h.Value == "healthy") == all.Count, "every instance healthy");

        // One Redis and one PostgreSQL server killed at once, in the middle of the others.
        var victims = new[] { redis[RedisCount / 2], postgres[PostgreSqlCount / 2] };
        var killed = new Dictionary<string, DateTimeOffset>();
        foreach (var id in victims)
        {
            var pid = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
            // The broker's wall clock stamps opened_at, so the kill is stamped by the same clock (another process's).
            killed[id] = TimeProvider.System.GetUtcNow();
            Processes.Kill(pid, 9);
        }

        foreach (var id in victims)
        {
            var incident = await WaitForAsync(async () => (await IncidentsAsync(osb, id)).FirstOrDefault(i => i.GetProperty("state").GetString() == "resolved"), $"incident of {id} resolved");
            incident.GetProperty("class").GetString().ShouldBe("killed-by-signal");
            incident.GetProperty("evidence").GetProperty("signal").GetInt32().ShouldBe(9);

            // Detected by the next supervisor tick (200 ms) that looks at processes, not by the next protocol check:
            // the bound is generous for a shared machine, and far below the 1 s check interval × 3 failures.
            var detected = incident.GetProperty("opened_at").GetDateTimeOffset() - killed[id];
            detected.ShouldBeLessThan(TimeSpan.FromSeconds(5), $"{id} detected after {detected.TotalMilliseconds:F0} ms");
        }

        // The others never had an incident and are all healthy.
        foreach (var id in all.Except(victims))
        {
            (await IncidentsAsync(osb, id)).ShouldBeEmpty($"{id} was not touched");
        }

        await WaitAsync(async () => (await HealthAsync(osb)).Count(h => all.Contains(h.Key) && h.Value == "healthy") == all.Count, "all healthy again");
    }

    private static async Task<Dictionary<string, string>> HealthAsync(OsbClient osb) =>
        (await osb.ApiAsync("/health")).Body.GetProperty("instances").EnumerateArray()
            .ToDictionary(i => i.GetProperty("id").GetString()!, i => i.GetProperty("health").GetProperty("status").GetString()!);

    private static async Task<IReadOnlyList<JsonElement>> IncidentsAsync(OsbClient osb, string id)
    {
        var reply = await osb.ApiAsync($"/incidents?instance={id}");
        reply.Status.ShouldBe(HttpStatusCode.OK);
        return reply.Body.GetProperty("incidents").EnumerateArray().ToList();
    }

    private static Task WaitAsync(Func<Task<bool>> condition, string what) =>
        WaitForAsync(async () => await condition() ? "yes" : null, what);

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var found = await probe();
            if (found is not null && !(found is JsonElement e && e.ValueKind == JsonValueKind.Undefined))
            {
                return found;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new TimeoutException($"not reached within 90 s: {what}");
            }

            await Task.Delay(100);
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Observability;
using Steward.Server.Tests.Wal;

namespace Steward.Server.Tests.Rehearsals;

/// <summary>A broker whose PostgreSQL instances archive WAL quickly (rehearsals of physical backups replay it).</summary>
public sealed class RehearsalBroker : IAsyncLifetime
{
    public StewardServer Server { get; private set; } = null!;

    /// <summary>The sandbox limits the rehearsal tests expect to find on the sandbox's cgroup.</summary>
    public const int CpuWeight = 30;

    public const int MemoryMb = 1536;

    public async Task InitializeAsync() => Server = await StewardServer.StartAsync(WalBroker.FastArchiving(new()
    {
        ["STEWARD_REHEARSAL_CPU_WEIGHT"] = CpuWeight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["STEWARD_REHEARSAL_MEMORY_MB"] = MemoryMb.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }));

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition("rehearsal")]
public sealed class RehearsalCollection : ICollectionFixture<RehearsalBroker>;

/// <summary>Rehearsals as the tests ask for them.</summary>
internal static class Rehearse
{
    /// <summary>POST /instances/{id}/rehearsals as the broker, or as the holder of <paramref name="token"/>.</summary>
    public static async Task<Reply> StartAsync(StewardServer server, string instance, object? body = null, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/instances/{instance}/rehearsals");
        request.Headers.Authorization = token is null
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")))
            : new AuthenticationHeaderValue("Bearer", token);
        request.Content = BackupApi.Json(body ?? new { });
        using var response = await server.Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    public static async Task<JsonElement> GetAsync(OsbClient osb, string rehearsal)
    {
        var reply = await osb.ApiAsync($"/rehearsals/{rehearsal}");
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
        return reply.Body;
    }

    /// <summary>Polls until the rehearsal is no longer running (or <paramref name="until"/> holds for it).</summary>
    public static async Task<JsonElement> WaitAsync(OsbClient osb, string rehearsal, Func<JsonElement, bool>? until = null, int seconds = 240)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var r = await GetAsync(osb, rehearsal);
            if ((until ?? (e => e.GetProperty("state").GetString() != "running"))(r))
            {
                return r;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(seconds), $"rehearsal {rehearsal}: {r.GetRawText()}");
            await Task.Delay(25);
        }
    }

    public static JsonElement Check(JsonElement rehearsal, string name) =>
        rehearsal.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static async Task<Exposition> ScrapeAsync(StewardServer server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")));
        using var response = await server.Http.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return Exposition.Parse(await response.Content.ReadAsStringAsync());
    }

    public static string SandboxDirectory(StewardServer server, string rehearsal) => Path.Combine(server.DataDir, "instances", "rehearsal-" + rehearsal);
}

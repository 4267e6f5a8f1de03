using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Supervision;

namespace Steward.Server.Tests.Rebuild;

/// <summary>
/// A broker that supervises as quickly as the supervision tests' one (so a crash loop is quarantined in seconds),
/// keeps backups on its file system and archives WAL every 2 s (so a write is recoverable within seconds).
/// </summary>
public sealed class RebuildBroker : IAsyncLifetime
{
    public StewardServer Server { get; private set; } = null!;

    public OsbClient Client => Server.Client;

    public async Task InitializeAsync() => Server = await StewardServer.StartAsync(Wal.WalBroker.FastArchiving(new(SupervisedBrokerFixture.Settings)));

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition("rebuild")]
public sealed class RebuildCollection : ICollectionFixture<RebuildBroker>;

/// <summary>Rebuilds as the tests ask for them: REST with an instance token, OSB update, waiting.</summary>
internal static class RebuildApi
{
    /// <summary>POST /instances/{id}/rebuild as the holder of <paramref name="token"/> (or the broker's credentials when null).</summary>
    public static async Task<Reply> RequestRebuildAsync(this StewardServer server, string instance, object? body, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/instances/{instance}/rebuild");
        request.Headers.Authorization = token is null
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")))
            : new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = BackupApi.Json(body);
        }

        using var response = await server.Http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    /// <summary>Polls the operation until it ends; returns its final record.</summary>
    public static async Task<JsonElement> WaitOperationAsync(this OsbClient client, string operation, int seconds = 180)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var reply = await client.ApiAsync($"/operations/{operation}");
            reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
            if (reply.Str("state") != "in progress")
            {
                return reply.Body;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"operation {operation} still running: {reply}");
            }

            await Task.Delay(50);
        }
    }

    public static async Task<JsonElement> IncidentAsync(this OsbClient client, string incident) => (await client.ApiAsync($"/incidents/{incident}")).Body;

    /// <summary>The preserved copies of this broker's instances.</summary>
    public static IReadOnlyList<string> Preserved(this StewardServer server)
    {
        var dir = Path.Combine(server.DataDir, "preserved");
        return Directory.Exists(dir) ? Directory.GetDirectories(dir) : [];
    }
}

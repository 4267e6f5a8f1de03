using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Observability;

/// <summary>GET /api/v1/instances/{id}/events: live server-sent events of one instance.</summary>
[Collection("observed")]
public sealed class EventStreamTests(ObservedBroker broker)
{
    [Fact]
    public async Task A_backup_streams_its_start_and_end_and_a_reconnect_resumes_after_the_last_event()
    {
        var osb = broker.Osb;
        var id = "sse-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await OpenAsync($"/api/v1/instances/{id}/events", token, null, cts.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        var items = SseParser.Create(await response.Content.ReadAsStreamAsync(cts.Token)).EnumerateAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var seen = new List<SseItem<string>>();
        async Task<SseItem<string>> UntilAsync(Func<SseItem<string>, bool> match)
        {
            while (await items.MoveNextAsync())
            {
                seen.Add(items.Current);
                if (match(items.Current))
                {
                    return items.Current;
                }
            }

            throw new InvalidOperationException("the stream ended");
        }

        await UntilAsync(i => i.EventType == "ready");
        var backupId = await osb.StartBackupAsync(id);
        bool Backup(SseItem<string> i, string state) => i.EventType == "backup" && Data(i).GetProperty("id").GetString() == backupId && Data(i).GetProperty("state").GetString() == state;
        await UntilAsync(i => Backup(i, "in progress"));
        var done = await UntilAsync(i => Backup(i, "succeeded"));
        Data(done).GetProperty("stored_bytes").GetInt64().ShouldBeGreaterThan(0);
        seen.Where(i => i.EventType != "ready").Select(i => long.Parse(i.EventId!, System.Globalization.CultureInfo.InvariantCulture)).ShouldBeInOrder(SortDirection.Ascending);
        seen.ShouldAllBe(i => !i.Data.Contains(token, StringComparison.Ordinal));

        // A reconnect with Last-Event-ID gets what came after it, not again what it had.
        var inProgress = seen.First(i => Backup(i, "in progress"));
        using var again = await OpenAsync($"/api/v1/instances/{id}/events", token, inProgress.EventId, cts.Token);
        var replay = SseParser.Create(await again.Content.ReadAsStreamAsync(cts.Token)).EnumerateAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        (await replay.MoveNextAsync()).ShouldBeTrue();
        replay.Current.EventType.ShouldBe("ready");
        var replayed = new List<SseItem<string>>();
        while (replayed.Count == 0 || !Backup(replayed[^1], "succeeded"))
        {
            (await replay.MoveNextAsync()).ShouldBeTrue();
            replayed.Add(replay.Current);
        }

        replayed.Count(i => Backup(i, "in progress")).ShouldBe(0);
        await osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task An_instance_token_cannot_follow_another_instances_events()
    {
        var osb = broker.Osb;
        var mine = "ssea-" + Guid.NewGuid().ToString("N")[..8];
        var other = "sseb-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.ProvisionReadyAsync(other, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await osb.BindReadyAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;

        using var response = await OpenAsync($"/api/v1/instances/{other}/events", token, null, CancellationToken.None);
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldNotContain("health");
        using var anonymous = await broker.Server.Http.GetAsync($"/api/v1/instances/{mine}/events");
        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        await osb.DeprovisionAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.DeprovisionAsync(other, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    private static JsonElement Data(SseItem<string> item) => JsonDocument.Parse(item.Data).RootElement;

    private async Task<HttpResponseMessage> OpenAsync(string path, string token, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        return await broker.Server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }
}

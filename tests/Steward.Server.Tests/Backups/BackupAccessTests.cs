using System.Net;
using System.Net.Http.Headers;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>Self-service without reaching anyone else: an instance token acts on its own instance's backups only.</summary>
[Collection("backups")]
public sealed class BackupAccessTests(BackupBrokers brokers)
{
    [Fact]
    public async Task An_instance_token_backs_up_and_restores_its_own_instance_and_gets_404_for_another()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var mine = "own-" + Guid.NewGuid().ToString("N")[..6];
        var theirs = "their-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.ProvisionReadyAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await osb.BindReadyAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        var theirBackup = (await osb.BackupAsync(theirs)).Text("id");

        async Task<Reply> AsOwner(HttpMethod method, string path, object? body = null)
        {
            using var request = new HttpRequestMessage(method, "/api/v1" + path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null)
            {
                request.Content = BackupApi.Json(body);
            }

            using var response = await server.Http.SendAsync(request);
            return await Reply.ReadAsync(response);
        }

        var started = await AsOwner(HttpMethod.Post, $"/instances/{mine}/backups", new { });
        started.Status.ShouldBe(HttpStatusCode.Accepted);
        var myBackup = (await osb.WaitBackupAsync(started.Str("id")!)).Text("id");
        (await AsOwner(HttpMethod.Get, $"/backups/{myBackup}")).Status.ShouldBe(HttpStatusCode.OK);
        var restore = await AsOwner(HttpMethod.Post, $"/instances/{mine}/restore", new { backup_id = myBackup });
        restore.Status.ShouldBe(HttpStatusCode.Accepted);
        (await osb.WaitAsync(mine, restore.Str("operation"))).Str("state").ShouldBe("succeeded");

        (await AsOwner(HttpMethod.Post, $"/instances/{theirs}/backups", new { })).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner(HttpMethod.Get, $"/instances/{theirs}/backups")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner(HttpMethod.Get, $"/backups/{theirBackup}")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner(HttpMethod.Delete, $"/backups/{theirBackup}")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner(HttpMethod.Post, $"/instances/{theirs}/restore", new { backup_id = theirBackup })).Status.ShouldBe(HttpStatusCode.NotFound);
        (await AsOwner(HttpMethod.Post, $"/instances/{mine}/restore", new { backup_id = theirBackup })).Status.ShouldBe(HttpStatusCode.NotFound, "another instance's backup is not this instance's to restore");
        (await osb.ApiAsync($"/backups/{theirBackup}")).Body.Text("state").ShouldBe("succeeded", "their backup was not touched");
    }

    [Fact]
    public async Task Bad_backup_requests_are_refused_precisely()
    {
        var osb = brokers.FileSystem.Client;
        var id = "badreq-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var unknownKind = await osb.PostAsync($"/instances/{id}/backups", new { kind = "physical" });
        unknownKind.Status.ShouldBe(HttpStatusCode.BadRequest);
        unknownKind.Str("description")!.ShouldContain("has: rdb");
        (await osb.PostAsync("/instances/nope/backups")).Status.ShouldBe(HttpStatusCode.NotFound);
        (await osb.PostAsync($"/instances/{id}/restore", new { })).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await osb.PostAsync($"/instances/{id}/restore", new { backup_id = "bk-nope" })).Status.ShouldBe(HttpStatusCode.NotFound);
        (await osb.SendAsync(HttpMethod.Post, $"/api/v1/instances/{id}/backups", "{not json", version: null)).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await osb.ApiAsync($"/instances/{id}/backups")).Body.GetProperty("backups").GetArrayLength().ShouldBe(0, "refused requests started nothing");
        using var yaml = new HttpRequestMessage(HttpMethod.Get, "/api/v1/openapi.yaml");
        yaml.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{brokers.FileSystem.Username}:{brokers.FileSystem.Password}")));
        using var doc = await brokers.FileSystem.Http.SendAsync(yaml);
        (await doc.Content.ReadAsStringAsync()).ShouldContain("/instances/{instanceId}/restore:");
    }
}

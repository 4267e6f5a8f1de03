using System.Text;
using System.Text.Json;
using Steward.Backup.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>
/// Two real brokers: one storing backups on its file system (the default), one in a real S3-compatible server. The
/// S3 one also takes PostgreSQL physical backups with pg_basebackup (<c>STEWARD_BACKUP_POSTGRESQL_SOURCE</c>), so every
/// test that runs on both covers both sources; the file-system one reads the data directory (the default).
/// </summary>
public sealed class BackupBrokers : IAsyncLifetime
{
    public S3rverFixture S3 { get; } = new();

    public StewardServer FileSystem { get; private set; } = null!;

    public StewardServer S3Broker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await S3.InitializeAsync();
        FileSystem = await StewardServer.StartAsync();
        S3Broker = await StewardServer.StartAsync(new Dictionary<string, string>(S3Settings(S3)) { ["STEWARD_BACKUP_POSTGRESQL_SOURCE"] = "pg_basebackup" });
    }

    public static Dictionary<string, string> S3Settings(S3rverFixture s3) => new()
    {
        ["STEWARD_BACKUP_S3_BUCKET"] = S3rverFixture.Bucket,
        ["STEWARD_BACKUP_S3_ENDPOINT"] = s3.ServiceUrl.ToString(),
        ["STEWARD_BACKUP_S3_ACCESS_KEY_ID"] = "S3RVER",
        ["STEWARD_BACKUP_S3_SECRET_ACCESS_KEY"] = "S3RVER",
    };

    public async Task DisposeAsync()
    {
        await FileSystem.DisposeAsync();
        await S3Broker.DisposeAsync();
        await S3.DisposeAsync();
    }
}

[CollectionDefinition("backups")]
public sealed class BackupCollection : ICollectionFixture<BackupBrokers>;

/// <summary>Steward's backup API as the tests use it.</summary>
internal static class BackupApi
{
    public static async Task<Reply> PostAsync(this OsbClient client, string path, object? body = null)
    {
        var reply = await client.SendAsync(HttpMethod.Post, "/api/v1" + path, body ?? new { }, version: null);
        return reply;
    }

    public static async Task<string> StartBackupAsync(this OsbClient client, string instance, string? kind = null)
    {
        var reply = await client.PostAsync($"/instances/{instance}/backups", kind is null ? null : new { kind });
        reply.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, reply.ToString());
        return reply.Str("id")!;
    }

    public static async Task<JsonElement> WaitBackupAsync(this OsbClient client, string backupId, int seconds = 120)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var reply = await client.ApiAsync($"/backups/{backupId}");
            if (reply.Str("state") != "in progress")
            {
                return reply.Body;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"backup {backupId} still running: {reply}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Backs up and fails the test unless the backup succeeded.</summary>
    public static async Task<JsonElement> BackupAsync(this OsbClient client, string instance, string? kind = null)
    {
        var done = await client.WaitBackupAsync(await client.StartBackupAsync(instance, kind));
        done.GetProperty("state").GetString().ShouldBe("succeeded", done.GetRawText());
        return done;
    }

    /// <summary>Restores and returns the operation's final state.</summary>
    public static async Task<Reply> RestoreAsync(this OsbClient client, string instance, string backupId)
    {
        var started = await client.PostAsync($"/instances/{instance}/restore", new { backup_id = backupId });
        started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());
        return await client.WaitAsync(instance, started.Str("operation"));
    }

    public static string IdentityFile(StewardServer server) => Path.Combine(server.DataDir, "backup-identity.txt");

    public static string Text(this JsonElement e, string name) => e.GetProperty(name).GetString()!;

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}

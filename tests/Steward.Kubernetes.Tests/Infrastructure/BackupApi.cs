using System.Diagnostics;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests.Infrastructure;

/// <summary>Steward's backup and restore API as the Kubernetes tests use it.</summary>
internal static class BackupApi
{
    public static Task<Reply> PostAsync(this OsbClient client, string path, object? body = null) =>
        client.SendAsync(HttpMethod.Post, "/api/v1" + path, body ?? new { }, version: null);

    public static Task<Reply> StartBackupAsync(this OsbClient client, string instance, string? kind = null) =>
        client.PostAsync($"/instances/{instance}/backups", kind is null ? null : new { kind });

    /// <summary>Backs up, polling until the backup has ended; fails the test unless it succeeded.</summary>
    public static async Task<JsonElement> BackupAsync(this OsbClient client, string instance, string? kind = null)
    {
        var started = await client.StartBackupAsync(instance, kind);
        started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var reply = await client.ApiAsync($"/backups/{started.Str("id")}");
            if (reply.Str("state") != "in progress")
            {
                reply.Str("state").ShouldBe("succeeded", reply.Text);
                return reply.Body;
            }

            if (clock.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"backup {started.Str("id")} still running: {reply}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Restores and returns the operation's final state.</summary>
    public static async Task<Reply> RestoreAsync(this OsbClient client, string instance, string backupId)
    {
        var started = await client.PostAsync($"/instances/{instance}/restore", new { backup_id = backupId });
        started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());
        return await client.WaitAsync(instance, started.Str("operation"), timeoutSeconds: 300);
    }

    /// <summary>Rebuilds from the latest backup and returns the operation's final state.</summary>
    public static async Task<Reply> RebuildAsync(this OsbClient client, string instance)
    {
        var started = await client.PostAsync($"/instances/{instance}/rebuild");
        started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());
        return await client.WaitAsync(instance, started.Str("operation"), timeoutSeconds: 300);
    }

    /// <summary>Flips one bit in the middle of a backup's stored object (the file storage under the broker's data directory).</summary>
    public static async Task DamageAsync(StewardServer server, JsonElement backup)
    {
        var file = Path.Combine(server.DataDir, "backups", backup.GetProperty("key").GetString()!);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(file, bytes);
    }
}

using System.Diagnostics;
using System.Net;
using Steward.Backup.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>Corrupted archives, killed tools, a storage server that dies, cancellation: each fails precisely and harms nothing.</summary>
[Collection("backups")]
public sealed class BackupFailureTests(BackupBrokers brokers)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Theory]
    [InlineData("flip", "physical")]
    [InlineData("truncate", "physical")]
    [InlineData("flip", "logical")]
    public async Task A_damaged_backup_is_refused_with_an_integrity_error_and_the_instance_keeps_its_data(string damage, string kind)
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var id = $"corrupt-{kind}-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 1000)");
        var backup = await osb.BackupAsync(id, kind);
        await Sql.ExecAsync(uri, "INSERT INTO t SELECT generate_series(1, 234)");

        var file = Path.Combine(server.DataDir, "backups", backup.Text("key"));
        var bytes = await File.ReadAllBytesAsync(file);
        if (damage == "flip")
        {
            bytes[bytes.Length / 2] ^= 0x01;
        }
        else
        {
            bytes = bytes[..(bytes.Length * 2 / 3)];
        }

        await File.WriteAllBytesAsync(file, bytes);
        var restore = await osb.RestoreAsync(id, backup.Text("id"));
        restore.Str("state").ShouldBe("failed");
        restore.Str("description")!.ShouldContain("integrity", Case.Insensitive);
        restore.Body.GetProperty("instance_usable").GetBoolean().ShouldBeTrue();
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM t")).ShouldBe("1234", "the instance is exactly as it was before the refused restore");
        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        Directory.Exists(Path.Combine(directory, "restore-staging")).ShouldBeFalse();
        Directory.Exists(Path.Combine(directory, "data.pre-restore")).ShouldBeFalse();
        await osb.DeprovisionAsync(id, Pg, PgPlan);
    }

    [Fact]
    public async Task A_source_killed_mid_stream_fails_the_backup_at_that_stage_and_stores_nothing()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var id = "killsrc-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 600000) g");

        var backupId = await osb.StartBackupAsync(id, "logical");
        var pid = await WaitForProcessAsync("pg_dump", uri.Split('@')[1].Split(':')[1].Split('/')[0]);
        Processes.Kill(pid, 9);
        var failed = await osb.WaitBackupAsync(backupId);
        failed.Text("state").ShouldBe("failed");
        failed.Text("failed_stage").ShouldBe("pg_dump");
        failed.Text("failure_kind").ShouldBe("source");
        failed.Text("message").ShouldContain("signal 9");
        Directory.GetFiles(Path.Combine(server.DataDir, "backups", id)).ShouldBeEmpty("no partial object or manifest is left");
        (await osb.PostAsync($"/instances/{id}/restore", new { backup_id = backupId })).Status.ShouldBe(HttpStatusCode.BadRequest, "a failed backup cannot be restored");
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM big")).ShouldBe("600000");
        await osb.DeprovisionAsync(id, Pg, PgPlan);
    }

    [Fact]
    public async Task A_backup_cancelled_while_running_fails_as_cancelled_and_stores_nothing()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var id = "cancel-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 600000) g");

        var backupId = await osb.StartBackupAsync(id, "logical");
        await WaitForProcessAsync("pg_dump", uri.Split('@')[1].Split(':')[1].Split('/')[0]);
        (await osb.SendAsync(HttpMethod.Delete, $"/api/v1/backups/{backupId}", version: null)).Status.ShouldBe(HttpStatusCode.Accepted);
        var failed = await osb.WaitBackupAsync(backupId);
        failed.Text("state").ShouldBe("failed");
        failed.Text("failure_kind").ShouldBe("cancelled");
        Directory.GetFiles(Path.Combine(server.DataDir, "backups", id)).ShouldBeEmpty();
        await osb.DeprovisionAsync(id, Pg, PgPlan);
    }

    [Fact]
    public async Task A_storage_server_that_dies_mid_upload_fails_the_backup_at_the_storage_stage_and_lists_nothing()
    {
        // Its own S3 server and broker: this test kills the storage.
        await using var s3 = new S3rverFixture();
        await s3.InitializeAsync();
        await using var server = await StewardServer.StartAsync(BackupBrokers.S3Settings(s3));
        var osb = server.Client;
        var id = "s3dies-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS v FROM generate_series(1, 800000) g");

        var backupId = await osb.StartBackupAsync(id, "physical");
        var deadline = Stopwatch.StartNew();
        while ((await osb.ApiAsync($"/backups/{backupId}")).Body.GetProperty("progress") is var p
               && (p.ValueKind != System.Text.Json.JsonValueKind.Object || p.GetProperty("stored_bytes").GetInt64() < 1))
        {
            deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60));
            await Task.Delay(20);
        }

        s3.Kill();
        var failed = await osb.WaitBackupAsync(backupId, seconds: 300);
        failed.Text("state").ShouldBe("failed", failed.GetRawText());
        failed.Text("failure_kind").ShouldBe("storage", failed.GetRawText());
        failed.Text("failed_stage").ShouldBe("s3");

        await s3.RestartAsync();
        using var client = new Amazon.S3.AmazonS3Client("S3RVER", "S3RVER", new Amazon.S3.AmazonS3Config { ServiceURL = s3.ServiceUrl.ToString(), ForcePathStyle = true });
        var listed = await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = S3rverFixture.Bucket, Prefix = id + "/" });
        (listed.S3Objects ?? []).ShouldBeEmpty("no partial object is listed");
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM big")).ShouldBe("800000");
    }

    [Fact]
    public async Task A_backup_interrupted_by_kill_9_of_the_broker_is_failed_at_restart_and_leaves_no_partial_file()
    {
        await using var server = await StewardServer.StartAsync();
        var osb = server.Client;
        var id = "brokerdies-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 800000) g");

        var backupId = await osb.StartBackupAsync(id, "physical");
        var directory = Path.Combine(server.DataDir, "backups", id);
        var deadline = Stopwatch.StartNew();
        while (!Directory.Exists(directory) || Directory.GetFiles(directory, ".partial-*").Length == 0)
        {
            deadline.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60));
            await Task.Delay(10);
        }

        await server.KillAsync();
        await server.StartProcessAsync();
        var failed = (await osb.ApiAsync($"/backups/{backupId}")).Body;
        failed.Text("state").ShouldBe("failed");
        failed.Text("failure_kind").ShouldBe("interrupted");
        Directory.GetFiles(directory).ShouldBeEmpty("the dead writer's temporary file is removed and nothing is listed");
        (await osb.ApiAsync($"/instances/{id}/backups")).Body.GetProperty("backups").EnumerateArray().ShouldAllBe(b => b.GetProperty("state").GetString() == "failed");
    }

    private static async Task<int> WaitForProcessAsync(string name, string port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && Processes.CommandLine(pid) is var cmd
                    && cmd.Contains(name, StringComparison.Ordinal) && cmd.Contains(port, StringComparison.Ordinal) && !cmd.Contains("setpriv", StringComparison.Ordinal))
                {
                    return pid;
                }
            }

            await Task.Delay(5);
        }

        throw new TimeoutException($"{name} for port {port} never started");
    }
}

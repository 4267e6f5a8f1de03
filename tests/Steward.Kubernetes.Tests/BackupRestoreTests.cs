using System.Net;
using System.Text.Json;
using Steward.Kubernetes.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests;

/// <summary>
/// Backups of instances on the cluster are taken through their Service and stored by the broker; restores stream the
/// verified plaintext into the instance's pod and swap it in there. A damaged backup is refused and changes nothing.
/// </summary>
[Collection("kubernetes")]
public sealed class BackupRestoreTests(ClusterFixture cluster)
{
    private OsbClient Osb => cluster.Osb;

    [Fact]
    public async Task A_PostgreSQL_instance_is_restored_in_its_pod_to_its_backup_and_a_damaged_backup_is_refused_while_it_keeps_serving()
    {
        var id = "pgbk-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await Pg.ExecuteAsync(credentials, "CREATE TABLE notes (n int PRIMARY KEY, body text); INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 1000) g");
        var backedUp = await SnapshotAsync(credentials);

        // The default method, pg_basebackup over the replication protocol, through the instance's Service.
        var backup = await Osb.BackupAsync(id);
        backup.GetProperty("kind").GetString().ShouldBe("physical");

        await Pg.ExecuteAsync(credentials, "DELETE FROM notes WHERE n <= 500; UPDATE notes SET body = 'changed'; CREATE TABLE later (x int)");
        (await SnapshotAsync(credentials)).ShouldNotBe(backedUp);

        var restored = await Osb.RestoreAsync(id, backup.GetProperty("id").GetString()!);
        restored.Str("state").ShouldBe("succeeded", restored.Text);

        // The same binding's credentials, through the same Service: the data is the backup's, the later table is gone.
        (await SnapshotAsync(credentials)).ShouldBe(backedUp);
        (await Pg.ScalarAsync(credentials, "SELECT count(*) FROM pg_tables WHERE tablename = 'later'")).ShouldBe(0L);
        (await cluster.InstanceFilesAsync(internalId)).ShouldNotContain("restore-staging");
        (await cluster.InstanceFilesAsync(internalId)).ShouldNotContain("data.pre-restore");

        // The logical method (pg_dump, pg_restore) runs beside the broker through the Service as well.
        var logical = await Osb.BackupAsync(id, "logical");
        await Pg.ExecuteAsync(credentials, "DELETE FROM notes WHERE n > 900");
        var reloaded = await Osb.RestoreAsync(id, logical.GetProperty("id").GetString()!);
        reloaded.Str("state").ShouldBe("succeeded", reloaded.Text);
        (await SnapshotAsync(credentials)).ShouldBe(backedUp);

        // A bit flipped in the stored backup: the restore refuses it, and the instance keeps its data and serves.
        await Pg.ExecuteAsync(credentials, "INSERT INTO notes VALUES (5000, 'after the restore')");
        var kept = await SnapshotAsync(credentials);
        await BackupApi.DamageAsync(cluster.Server, backup);
        var refused = await Osb.RestoreAsync(id, backup.GetProperty("id").GetString()!);
        refused.Str("state").ShouldBe("failed", refused.Text);
        refused.Str("description")!.ShouldContain("integrity", Case.Insensitive);
        refused.Body.GetProperty("instance_usable").GetBoolean().ShouldBeTrue(refused.Text);
        (await SnapshotAsync(credentials)).ShouldBe(kept, "the instance is exactly as it was before the refused restore");
        await Pg.ExecuteAsync(credentials, "INSERT INTO notes VALUES (5001, 'still serving')");
        (await cluster.InstanceFilesAsync(internalId)).ShouldNotContain("restore-staging", "the refused backup's unpacked part is removed from the volume");

        // A method that reads the data directory beside the broker says it cannot run here, and why.
        var incremental = await Osb.StartBackupAsync(id, "incremental");
        incremental.Status.ShouldBe(HttpStatusCode.BadRequest, incremental.Text);
        incremental.Str("description")!.ShouldContain("'incremental'");
        incremental.Str("description")!.ShouldContain("docs/kubernetes.md");

        // Point-in-time restore needs WAL archiving, which is off on Kubernetes: refused before anything is planned.
        var pointInTime = await Osb.PostAsync($"/instances/{id}/point-in-time-restore", new { latest = true });
        pointInTime.Status.ShouldBe(HttpStatusCode.BadRequest, pointInTime.Text);
        pointInTime.Str("description")!.ShouldContain("docs/kubernetes.md");
        (await Pg.ScalarAsync(credentials, "SHOW archive_mode")).ShouldBe("off");

        await Osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        (await Osb.WaitAsync(id, timeoutSeconds: 180)).Status.ShouldBe(HttpStatusCode.Gone);
    }

    [Fact]
    public async Task A_Redis_instance_is_restored_in_its_pod_to_its_backup_and_a_damaged_backup_is_refused_while_it_keeps_serving()
    {
        var id = "redisbk-" + Guid.NewGuid().ToString("N")[..8];
        var (internalId, credentials) = await cluster.ProvisionBoundAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        (await RedisCli.RunAsync(credentials, "MSET", "greeting", "hello", "counter", "41", "doomed", "soon gone")).ShouldBe("OK");

        // The default method, redis-cli --rdb through the instance's Service.
        var backup = await Osb.BackupAsync(id);
        backup.GetProperty("kind").GetString().ShouldBe("rdb");

        (await RedisCli.RunAsync(credentials, "SET", "greeting", "changed")).ShouldBe("OK");
        (await RedisCli.RunAsync(credentials, "DEL", "doomed")).ShouldBe("1");
        (await RedisCli.RunAsync(credentials, "SET", "later", "written after the backup")).ShouldBe("OK");

        var restored = await Osb.RestoreAsync(id, backup.GetProperty("id").GetString()!);
        restored.Str("state").ShouldBe("succeeded", restored.Text);
        (await RedisCli.RunAsync(credentials, "GET", "greeting")).ShouldBe("hello", "read with the same binding's credentials after the restore");
        (await RedisCli.RunAsync(credentials, "GET", "doomed")).ShouldBe("soon gone");
        (await RedisCli.RunAsync(credentials, "EXISTS", "later")).ShouldBe("0");
        (await RedisCli.RunAsync(credentials, "DBSIZE")).ShouldBe("3");

        (await RedisCli.RunAsync(credentials, "INCR", "counter")).ShouldBe("42");
        await BackupApi.DamageAsync(cluster.Server, backup);
        var refused = await Osb.RestoreAsync(id, backup.GetProperty("id").GetString()!);
        refused.Str("state").ShouldBe("failed", refused.Text);
        refused.Str("description")!.ShouldContain("integrity", Case.Insensitive);
        refused.Body.GetProperty("instance_usable").GetBoolean().ShouldBeTrue(refused.Text);
        (await RedisCli.RunAsync(credentials, "GET", "counter")).ShouldBe("42", "the instance keeps what it had before the refused restore");
        (await RedisCli.RunAsync(credentials, "SET", "after", "still serving")).ShouldBe("OK");
        (await cluster.InstanceFilesAsync(internalId)).ShouldNotContain("restore-staging");

        await Osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        (await Osb.WaitAsync(id, timeoutSeconds: 180)).Status.ShouldBe(HttpStatusCode.Gone);
    }

    /// <summary>Every row of the table, in order, as one string: equal snapshots mean equal data.</summary>
    private static async Task<string> SnapshotAsync(JsonElement credentials) =>
        (string)(await Pg.ScalarAsync(credentials, "SELECT coalesce(string_agg(n || ':' || body, ',' ORDER BY n), '') FROM notes"))!;
}

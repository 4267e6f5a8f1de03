using System.Net;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;

namespace Steward.Server.Tests.Backups;

/// <summary>Known data in, backup, more changes, restore: exactly the backed-up state comes back.</summary>
[Collection("backups")]
public sealed class BackupRoundTripTests(BackupBrokers brokers)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Theory]
    [InlineData("filesystem", "physical")]
    [InlineData("filesystem", "logical")]
    [InlineData("s3", "physical")]
    [InlineData("s3", "logical")]
    public async Task A_PostgreSQL_backup_restores_exactly_the_backed_up_rows(string storage, string kind)
    {
        var server = storage == "s3" ? brokers.S3Broker : brokers.FileSystem;
        var osb = server.Client;
        var id = $"pg-{kind}-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "app-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 5000) g");

        var backup = await osb.BackupAsync(id, kind);
        backup.Text("storage").ShouldBe(storage);
        backup.GetProperty("plaintext_bytes").GetInt64().ShouldBeGreaterThan(0);
        backup.GetProperty("stored_bytes").GetInt64().ShouldBeGreaterThan(0);
        var manifest = backup.GetProperty("manifest");
        manifest.Text("engine").ShouldBe("postgresql");
        manifest.Text("storedSha256").ShouldBe(backup.Text("stored_sha256"));
        manifest.GetProperty("filters").EnumerateArray().Select(f => f.Text("name")).ShouldBe(["zstd", "age"]);
        manifest.GetRawText().ShouldNotContain("AGE-SECRET-KEY");
        if (kind == "physical")
        {
            var properties = manifest.GetProperty("properties");
            properties.Text("start_lsn").ShouldMatch("^[0-9A-F]+/[0-9A-F]+$");
            properties.Text("stop_lsn").ShouldMatch("^[0-9A-F]+/[0-9A-F]+$");
            properties.Text("timeline").ShouldBe("1");
            properties.Text("server_version").ShouldBe("15");
        }

        // After the backup: more rows, a dropped table, a new binding, a removed binding.
        var removed = (await osb.BindReadyAsync(id, "old-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        if (kind == "physical")
        {
            // Taken before the backup: the role exists in the backup; unbinding afterwards must stay effective.
            await osb.UnbindAsync(id, "old-" + id, Pg, PgPlan);
        }

        await Sql.ExecAsync(uri, "INSERT INTO orders SELECT g, 'late' FROM generate_series(5001, 6000) g; CREATE TABLE scratch (x int); DELETE FROM orders WHERE id <= 10");
        var added = (await osb.BindReadyAsync(id, "new-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;

        var restore = await osb.RestoreAsync(id, backup.Text("id"));
        restore.Str("state").ShouldBe("succeeded", restore.ToString());
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM orders")).ShouldBe("5000");
        (await Sql.ScalarAsync(uri, "SELECT item FROM orders WHERE id = 7")).ShouldBe("item 7");
        (await Sql.ScalarAsync(uri, "SELECT to_regclass('scratch') IS NULL")).ShouldBe("True");
        (await Sql.ScalarAsync(added, "SELECT count(*) FROM orders")).ShouldBe("5000", "bindings made after the backup keep working");
        if (kind == "physical")
        {
            await Should.ThrowAsync<Npgsql.PostgresException>(() => Sql.ScalarAsync(removed, "SELECT 1"));
        }

        await osb.DeprovisionAsync(id, Pg, PgPlan);
    }

    [Theory]
    [InlineData("filesystem", false)]
    [InlineData("s3", true)]
    public async Task A_Redis_RDB_backup_restores_exactly_the_backed_up_keys(string storage, bool appendOnly)
    {
        var server = storage == "s3" ? brokers.S3Broker : brokers.FileSystem;
        var osb = server.Client;
        var id = "redis-bk-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone, new { appendonly = appendOnly });
        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            for (var i = 0; i < 200; i++)
            {
                await conn.ExecuteAsync(["SET", $"key:{i}", $"value {i}"], default);
            }

            await conn.ExecuteAsync(["RPUSH", "list", "a", "b", "c"], default);
        }

        var backup = await osb.BackupAsync(id);
        backup.Text("kind").ShouldBe("rdb");
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            await conn.ExecuteAsync(["SET", "key:late", "x"], default);
            await conn.ExecuteAsync(["DEL", "key:0", "list"], default);
        }

        (await osb.RestoreAsync(id, backup.Text("id"))).Str("state").ShouldBe("succeeded");
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            (await conn.ExecuteAsync(["DBSIZE"], default)).AsText().ShouldBe("201");
            (await conn.ExecuteAsync(["GET", "key:0"], default)).AsText().ShouldBe("value 0");
            (await conn.ExecuteAsync(["EXISTS", "key:late"], default)).AsText().ShouldBe("0");
            (await conn.ExecuteAsync(["LRANGE", "list", "0", "-1"], default)).ShouldBeOfType<Steward.Engines.Redis.Resp.RespValue.Array>().Items!.Select(v => v.AsText()).ShouldBe(["a", "b", "c"]);
        }

        // Listed, and deletable: afterwards it is gone from the list and from storage.
        var list = await osb.ApiAsync($"/instances/{id}/backups");
        list.Body.GetProperty("backups").EnumerateArray().Select(b => b.Text("id")).ShouldContain(backup.Text("id"));
        (await osb.SendAsync(HttpMethod.Delete, $"/api/v1/backups/{backup.Text("id")}", version: null)).Status.ShouldBe(HttpStatusCode.OK);
        (await osb.ApiAsync($"/backups/{backup.Text("id")}")).Status.ShouldBe(HttpStatusCode.NotFound);
        if (storage == "filesystem")
        {
            Directory.GetFiles(Path.Combine(server.DataDir, "backups", id)).ShouldBeEmpty();
        }

        await osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }
}

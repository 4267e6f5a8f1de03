using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>Incremental backups hold only what changed, restore like full ones, and a broken chain is refused.</summary>
[Collection("backups")]
public sealed class IncrementalBackupTests(BackupBrokers brokers)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task An_incremental_backup_holds_only_the_changed_files_and_restores_the_state_of_its_moment()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var (id, uri) = await InstanceWithColdAndHotTablesAsync(osb);
        var cold = await Sql.ScalarAsync(uri, "SELECT pg_relation_filepath('cold')");
        var hot = await Sql.ScalarAsync(uri, "SELECT pg_relation_filepath('hot')");

        var full = await osb.BackupAsync(id, "incremental");
        var fullProperties = Properties(full);
        fullProperties.Text("backup_type").ShouldBe("full");
        Holder(fullProperties, cold!).ShouldBe(full.Text("id"));

        // The full backup's checkpoint wrote the tables' pages while it ran: the first incremental takes them again.
        var first = await osb.BackupAsync(id, "incremental");
        Properties(first).Text("parent").ShouldBe(full.Text("id"));

        await Sql.ExecAsync(uri, "UPDATE hot SET v = 'changed' WHERE id <= 50; INSERT INTO hot SELECT g, 'second' FROM generate_series(101, 150) g");
        var incremental = await osb.BackupAsync(id, "incremental");
        var properties = Properties(incremental);
        properties.Text("backup_type").ShouldBe("incremental");
        properties.Text("parent").ShouldBe(first.Text("id"));
        properties.Text("chain").ShouldBe($"{full.Text("id")},{first.Text("id")},{incremental.Text("id")}");
        Holder(properties, cold!).ShouldBeOneOf([full.Text("id"), first.Text("id")], "the untouched table is read from an earlier backup of the chain");
        Holder(properties, hot!).ShouldBe(incremental.Text("id"), "the changed table is in the incremental backup");
        var changed = long.Parse(properties.Text("changed_bytes"), System.Globalization.CultureInfo.InvariantCulture);
        var coldBytes = long.Parse((await Sql.ScalarAsync(uri, "SELECT pg_relation_size('cold')"))!, System.Globalization.CultureInfo.InvariantCulture);
        changed.ShouldBeLessThan(coldBytes, "the incremental backup copied less than the one table nobody wrote to");

        // After the incremental backup: more changes, which the restore must take back.
        await Sql.ExecAsync(uri, "UPDATE hot SET v = 'late'; DELETE FROM cold WHERE g % 2 = 0; CREATE TABLE scratch (x int)");
        var restore = await osb.RestoreAsync(id, incremental.Text("id"));
        restore.Str("state").ShouldBe("succeeded", restore.ToString());
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM cold")).ShouldBe("20000");
        (await Sql.ScalarAsync(uri, "SELECT sum(g) FROM cold")).ShouldBe("200010000");
        (await Sql.ScalarAsync(uri, "SELECT string_agg(v || ':' || n, ',' ORDER BY v) FROM (SELECT v, count(*) n FROM hot GROUP BY v) t")).ShouldBe("changed:50,first:50,second:50");
        (await Sql.ScalarAsync(uri, "SELECT to_regclass('scratch') IS NULL")).ShouldBe("True");

        // The restored directory is a new one: file times no longer tell what changed, so the next backup is full.
        var after = await osb.BackupAsync(id, "incremental");
        Properties(after).Text("backup_type").ShouldBe("full");
        Properties(after).Text("full_reason").ShouldContain("the data directory was replaced");

        // A backup an incremental one builds on cannot be deleted before it.
        var refused = await osb.SendAsync(HttpMethod.Delete, $"/api/v1/backups/{full.Text("id")}", version: null);
        refused.Status.ShouldBe(HttpStatusCode.Conflict, refused.Text);
        refused.Str("description")!.ShouldContain($"part of the chain of incremental backups {string.Join(", ", new[] { first.Text("id"), incremental.Text("id") }.Order(StringComparer.Ordinal))}");
        foreach (var backup in new[] { incremental, first, full })
        {
            var deleted = await osb.SendAsync(HttpMethod.Delete, $"/api/v1/backups/{backup.Text("id")}", version: null);
            deleted.Status.ShouldBe(HttpStatusCode.OK, deleted.Text);
        }

        await osb.DeprovisionAsync(id, Pg, PgPlan);
    }

    [Fact]
    public async Task A_restore_whose_chain_lost_a_backup_is_refused_and_changes_nothing()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var (id, uri) = await InstanceWithColdAndHotTablesAsync(osb);
        var full = await osb.BackupAsync(id, "incremental");
        await Sql.ExecAsync(uri, "UPDATE hot SET v = 'changed'");
        var incremental = await osb.BackupAsync(id, "incremental");
        Properties(incremental).Text("parent").ShouldBe(full.Text("id"));
        await Sql.ExecAsync(uri, "UPDATE hot SET v = 'live'");

        // The full backup's stored object is lost (a storage accident): the incremental one cannot be restored.
        File.Delete(Path.Combine(server.DataDir, "backups", full.Text("key")));
        var restore = await osb.RestoreAsync(id, incremental.Text("id"));
        restore.Str("state").ShouldBe("failed", restore.ToString());
        restore.Str("description")!.ShouldContain(full.Text("id"));
        (await Sql.ScalarAsync(uri, "SELECT string_agg(DISTINCT v, ',') FROM hot")).ShouldBe("live", "the live data is untouched");
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM cold")).ShouldBe("20000");
        await osb.DeprovisionAsync(id, Pg, PgPlan);
    }

    /// <summary>An instance with a 20 000-row table nothing writes to any more (frozen) and a small one.</summary>
    private static async Task<(string Id, string Uri)> InstanceWithColdAndHotTablesAsync(OsbClient osb)
    {
        var id = "pg-incr-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "app-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, """
            CREATE TABLE cold AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g;
            CREATE TABLE hot (id int PRIMARY KEY, v text);
            INSERT INTO hot SELECT g, 'first' FROM generate_series(1, 100) g;
            """);
        await Sql.ExecAsync(uri, "VACUUM (FREEZE, ANALYZE) cold");
        return (id, uri);
    }

    private static JsonElement Properties(JsonElement backup) => backup.GetProperty("manifest").GetProperty("properties");

    private static string? Holder(JsonElement properties, string path) =>
        properties.Text("files").Split('\n').Select(l => l.Split('\t')).FirstOrDefault(f => f.Length == 4 && f[3] == path)?[0];
}

using System.Net;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>
/// What a PostgreSQL physical backup reads: the data directory itself (the default where the broker shares the
/// instance's files), checking every page's checksum as pg_basebackup has the server do, or pg_basebackup's stream.
/// </summary>
[Collection("backups")]
public sealed class PhysicalSourceTests(BackupBrokers brokers)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task A_physical_backup_reads_the_data_directory_and_verifies_every_written_page_unless_pg_basebackup_is_asked_for()
    {
        foreach (var (server, expected) in new[] { (brokers.FileSystem, "pg_backup_start"), (brokers.S3Broker, "pg_basebackup") })
        {
            var osb = server.Client;
            var id = "src-" + Guid.NewGuid().ToString("N")[..6];
            await osb.ProvisionReadyAsync(id, Pg, PgPlan);
            var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
            await Sql.ExecAsync(uri, "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL); INSERT INTO accounts SELECT g, repeat('o', 100) FROM generate_series(1, 20000) g");
            var pages = long.Parse((await Sql.ScalarAsync(uri, "SELECT pg_relation_size('accounts') / 8192"))!, System.Globalization.CultureInfo.InvariantCulture);

            var backup = await osb.BackupAsync(id, "physical");
            var properties = backup.GetProperty("manifest").GetProperty("properties");
            properties.Text("format").ShouldContain(expected, Case.Sensitive, backup.GetRawText());
            if (server == brokers.FileSystem)
            {
                // Every page of the table was written before the backup started, so each was checked (and more: the catalogs').
                long.Parse(properties.Text("pages_verified")!, System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(pages, backup.GetRawText());
                properties.TryGetProperty("files", out _).ShouldBeFalse("a whole physical backup is not a link of an incremental chain");
            }

            await osb.DeprovisionAsync(id, Pg, PgPlan);
        }
    }

    [Fact]
    public async Task A_damaged_page_fails_a_physical_backup_naming_its_file_and_block_and_nothing_is_stored()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var id = "dmg-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL); INSERT INTO accounts SELECT g, repeat('o', 100) FROM generate_series(1, 20000) g");
        var file = (await Sql.ScalarAsync(uri, "SELECT pg_relation_filepath('accounts')"))!;

        // A clean restart writes every page: the file holds them all, and no dirty buffer writes over the damage.
        (await osb.UpdateAsync(id, Pg, null, new { statement_timeout_ms = 60000 })).Status.ShouldBe(HttpStatusCode.Accepted);
        (await osb.WaitAsync(id)).Str("state").ShouldBe("succeeded");
        var path = Path.Combine((await osb.ApiAsync($"/instances/{id}")).Body.Text("directory")!, "data", file);

        // Block 37: past the first reads of the file, so the check keeps its place across reads.
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = (37 * 8192) + 4000;
            var b = stream.ReadByte();
            stream.Position--;
            stream.WriteByte((byte)(b ^ 0xFF));
        }

        var failed = await osb.WaitBackupAsync(await osb.StartBackupAsync(id, "physical"));
        failed.Text("state").ShouldBe("failed", failed.GetRawText());
        failed.Text("failure_kind").ShouldBe("source", failed.GetRawText());
        failed.Text("message").ShouldContain($"checksum failure in {file}, block 37", Case.Sensitive, failed.GetRawText());
        failed.Text("message").ShouldContain("steward repair");
        Directory.GetFiles(Path.Combine(server.DataDir, "backups", id)).ShouldBeEmpty("no partial object or manifest is left");

        // The instance was left as it was: serving, and the other pages readable.
        (await Sql.ScalarAsync(uri, "SELECT owner FROM accounts WHERE id = 1")).ShouldBe(new string('o', 100));
        await osb.DeprovisionAsync(id, Pg, PgPlan);
    }
}

using System.Net;
using System.Security.Cryptography;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Repair;

/// <summary>A live PostgreSQL instance with rows written after its last backup and damaged pages, as repair tests need it.</summary>
internal sealed record Damaged(string Id, string Uri, string File, string DataFile, int Pid, string Md5, IReadOnlyDictionary<long, byte[]> DamagedPages)
{
    public const string Pg = Catalogs.PostgreSql;
    public const string PgPlan = Catalogs.PostgreSqlStandalone;

    /// <summary>The table's content in one digest: every row, in order.</summary>
    public const string TableDigest = "SELECT md5(string_agg(id::text || ':' || owner, ',' ORDER BY id)) FROM accounts";

    /// <summary>
    /// Provisions, fills a table, backs it up, then changes rows on every page and adds rows (after the backup),
    /// restarts the server (so every page is on disk and none is cached) and flips a byte in each of
    /// <paramref name="blocks"/> of the table's file.
    /// </summary>
    public static async Task<Damaged> CreateAsync(StewardServer server, string id, long[] blocks, Func<string, Task>? afterBackup = null)
    {
        var osb = server.Client;
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL); INSERT INTO accounts SELECT g, repeat('o', 100) FROM generate_series(1, 8000) g");
        await osb.BackupAsync(id);

        // After the backup: a change on every page (the damaged ones too) and new rows; only WAL has them.
        await Sql.ExecAsync(uri, "UPDATE accounts SET owner = 'after-backup-' || id WHERE id % 7 = 0; INSERT INTO accounts SELECT g, 'new-' || g FROM generate_series(8001, 9000) g");
        if (afterBackup is not null)
        {
            await afterBackup(uri);
        }

        var md5 = (await Sql.ScalarAsync(uri, TableDigest))!;
        var file = (await Sql.ScalarAsync(uri, "SELECT pg_relation_filepath('accounts')"))!;

        // A clean restart writes every page and leaves nothing cached: the next read comes from the file.
        (await osb.UpdateAsync(id, Pg, null, new { statement_timeout_ms = 60000 })).Status.ShouldBe(HttpStatusCode.Accepted);
        (await osb.WaitAsync(id)).Str("state").ShouldBe("succeeded");
        var details = (await osb.ApiAsync($"/instances/{id}")).Body;
        var dataFile = Path.Combine(details.Text("directory"), "data", file);
        var pages = new Dictionary<long, byte[]>();
        await using (var stream = new FileStream(dataFile, FileMode.Open, FileAccess.ReadWrite))
        {
            foreach (var block in blocks)
            {
                stream.Position = (block * 8192) + 4000;
                var b = stream.ReadByte();
                stream.Position--;
                stream.WriteByte((byte)(b ^ 0xFF));
                var page = new byte[8192];
                stream.Position = block * 8192;
                stream.ReadExactly(page);
                pages[block] = page;
            }
        }

        return new Damaged(id, uri, file, dataFile, details.GetProperty("process").GetProperty("pid").GetInt32(), md5, pages);
    }

    public static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(path)));

    /// <summary>Directories of repair copies (sandboxes) left under the broker's instances.</summary>
    public static IReadOnlyList<string> Sandboxes(StewardServer server) =>
        Directory.Exists(Path.Combine(server.DataDir, "instances"))
            ? Directory.GetDirectories(Path.Combine(server.DataDir, "instances"), "repair-*")
            : [];

    /// <summary>
    /// Processes running in a repair copy's directory (<c>instances/repair-{operation}</c>), found by working
    /// directory: a command line is no guide, since the live instance's own WAL uploads name its service id,
    /// which these tests start with "repair-" too. A deleted directory still counts (its cwd reads "… (deleted)").
    /// </summary>
    public static int SandboxProcessCount(StewardServer server)
    {
        var sandboxes = Path.Combine(server.DataDir, "instances", "repair-");
        return Processes.Under(Path.Combine(server.DataDir, "instances")).Count(pid => Processes.WorkingDirectory(pid)?.StartsWith(sandboxes, StringComparison.Ordinal) == true);
    }

    public static async Task<Reply> RepairAsync(OsbClient osb, string id, bool dryRun = false) =>
        await osb.PostAsync($"/instances/{id}/repair", dryRun ? new { dry_run = true } : new { });
}

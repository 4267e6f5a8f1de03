using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>The day Steward is gone: its backups open with age, zstd and tar, and PostgreSQL starts on them.</summary>
[Collection("backups")]
public sealed class StockToolRestoreTests(BackupBrokers brokers)
{
    [Fact]
    public async Task An_encrypted_compressed_PostgreSQL_backup_restores_with_age_zstd_tar_and_postgres_alone()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var id = "stock-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var uri = credentials.GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE survivors (name text); INSERT INTO survivors VALUES ('ada'), ('grace')");
        var backup = await osb.BackupAsync(id, "physical");
        var archive = Path.Combine(server.DataDir, "backups", backup.Text("key"));
        File.Exists(archive + ".manifest.json").ShouldBeTrue("the manifest sits beside the data");

        // Exactly the README's commands: decrypt, decompress, unpack as the postgres user, start postgres.
        var target = Path.Combine(server.Root, "by-hand");
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await Processes.RunAsync("chown", "steward:steward", target);
        await Processes.RunAsync("sh", "-c", $"age -d -i '{BackupApi.IdentityFile(server)}' '{archive}' | zstd -d | setpriv --reuid=steward --regid=steward --clear-groups tar -x -C '{target}'");
        (await QueryByHandAsync(target, uri, credentials.GetProperty("port").GetInt32(), "SELECT string_agg(name, ',' ORDER BY name) FROM survivors")).ShouldBe("ada,grace");
        await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    [Fact]
    public async Task A_chain_of_incremental_backups_restores_with_the_documented_age_zstd_jq_and_tar_loop()
    {
        var server = brokers.FileSystem;
        var osb = server.Client;
        var id = "stockinc-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var uri = credentials.GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE cold AS SELECT g FROM generate_series(1, 20000) g; CREATE TABLE hot (v text)");
        var full = await osb.BackupAsync(id, "incremental");
        await Sql.ExecAsync(uri, "INSERT INTO hot VALUES ('first')");
        await osb.BackupAsync(id, "incremental");
        await Sql.ExecAsync(uri, "INSERT INTO hot VALUES ('second'); CREATE TABLE late (x int); INSERT INTO late VALUES (7)");
        var newest = await osb.BackupAsync(id, "incremental");
        newest.GetProperty("manifest").GetProperty("properties").Text("chain").ShouldStartWith(full.Text("id") + ",");
        await Sql.ExecAsync(uri, "INSERT INTO hot VALUES ('after the backup')");

        // docs/backups.md, "Restoring without Steward", the incremental chain, with its placeholders filled in.
        var target = Path.Combine(server.Root, "by-hand-" + id);
        Directory.CreateDirectory(target);
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await Processes.RunAsync("chown", "steward:steward", target);
        var key = newest.Text("key");
        var lists = Directory.CreateTempSubdirectory("stock-lists-").FullName;
        File.SetUnixFileMode(lists, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute); // tar runs as the service user
        await Processes.RunAsync("sh", "-c", $$"""
            set -e
            cd '{{Path.Combine(server.DataDir, "backups")}}'
            m={{key}}.manifest.json
            age -d -i '{{BackupApi.IdentityFile(server)}}' {{key}} | zstd -d | setpriv --reuid=steward --regid=steward --clear-groups tar -x -C '{{target}}'
            for link in $(jq -r '.properties.chain | split(",") | .[:-1][]' $m); do
              jq -r --arg l "$link" '.properties.files | split("\n")[] | select(startswith($l + "\t")) | split("\t")[3]' $m > '{{lists}}'/$link.list
              age -d -i '{{BackupApi.IdentityFile(server)}}' {{Path.GetDirectoryName(key)}}/$link | zstd -d | setpriv --reuid=steward --regid=steward --clear-groups tar -x -C '{{target}}' -T '{{lists}}'/$link.list
            done
            """);
        Directory.Delete(lists, recursive: true);

        (await QueryByHandAsync(target, uri, credentials.GetProperty("port").GetInt32(), "SELECT (SELECT sum(g) FROM cold) || '/' || (SELECT string_agg(v, ',' ORDER BY v) FROM hot) || '/' || (SELECT x FROM late)"))
            .ShouldBe("200010000/first,second/7", "every file from the link that holds it: the full backup's cold table, the newest backup's rows");
        await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    /// <summary>Starts postgres by hand on a restored directory, runs one query through the instance's credentials, and stops it.</summary>
    private static async Task<string?> QueryByHandAsync(string directory, string uri, int instancePort, string sql)
    {
        var port = FreePort();
        var postgres = Process.Start(new ProcessStartInfo("setpriv")
        {
            ArgumentList = { "--reuid=steward", "--regid=steward", "--clear-groups", "/usr/lib/postgresql/15/bin/postgres", "-D", directory, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            var restoredUri = uri.Replace($":{instancePort}/", $":{port}/", StringComparison.Ordinal);
            for (var i = 0; ; i++)
            {
                try
                {
                    return await Sql.ScalarAsync(restoredUri, sql);
                }
                catch (Exception) when (i < 99)
                {
                    await Task.Delay(100);
                }
            }
        }
        finally
        {
            Processes.Kill(postgres.Id, 9);
            await postgres.WaitForExitAsync();
            Processes.KillAllUnder(directory);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

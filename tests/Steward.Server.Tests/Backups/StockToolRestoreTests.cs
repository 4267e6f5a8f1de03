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
        await RunAsync("chown", "steward:steward", target);
        await RunAsync("sh", "-c", $"age -d -i '{BackupApi.IdentityFile(server)}' '{archive}' | zstd -d | setpriv --reuid=steward --regid=steward --clear-groups tar -x -C '{target}'");
        var port = FreePort();
        var postgres = Process.Start(new ProcessStartInfo("setpriv")
        {
            ArgumentList = { "--reuid=steward", "--regid=steward", "--clear-groups", "/usr/lib/postgresql/15/bin/postgres", "-D", target, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            var restoredUri = uri.Replace($":{credentials.GetProperty("port").GetInt32()}/", $":{port}/", StringComparison.Ordinal);
            string? names = null;
            for (var i = 0; i < 100 && names is null; i++)
            {
                try
                {
                    names = await Sql.ScalarAsync(restoredUri, "SELECT string_agg(name, ',' ORDER BY name) FROM survivors");
                }
                catch (Exception) when (i < 99)
                {
                    await Task.Delay(100);
                }
            }

            names.ShouldBe("ada,grace");
        }
        finally
        {
            Processes.Kill(postgres.Id, 9);
            await postgres.WaitForExitAsync();
            Processes.KillAllUnder(target);
        }

        await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        p.ExitCode.ShouldBe(0, $"{file} {string.Join(' ', args)}: {err}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

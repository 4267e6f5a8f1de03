using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Steward.Bench.Backup;

namespace Steward.Bench.Wal;

/// <summary>
/// pgBackRest on the same instance, configured like Steward's pipeline: zstd level 3, AES-256-CBC, one process,
/// asynchronous archive-push and archive-get (which prefetches, as Steward's restore_command does), run as the
/// data directory's owner.
/// </summary>
internal sealed class PgBackRestArchive(Instance instance, string work)
{
    private const string Stanza = "bench";
    private readonly string _dir = Path.Combine(work, "pgbackrest");

    private string Config => Path.Combine(_dir, "pgbackrest.conf");

    private string Binary => $"pgbackrest --config={Shell.Quote(Config)} --stanza={Stanza}";

    /// <summary>The archive_command that hands segments to pgBackRest.</summary>
    public string ArchivePushCommand => $"pgbackrest --config={Config} --stanza={Stanza} archive-push %p";

    public static Task<string> VersionAsync(CancellationToken ct) => Shell.RunAsync("pgbackrest version", null, ct);

    public async Task SetUpAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_dir);
        await File.WriteAllTextAsync(Config, $"""
            [global]
            repo1-path={_dir}/repo
            repo1-cipher-type=aes-256-cbc
            repo1-cipher-pass={Convert.ToHexString(RandomNumberGenerator.GetBytes(32))}
            compress-type=zst
            compress-level=3
            process-max=1
            archive-async=y
            start-fast=y
            archive-check=n
            log-path={_dir}/log
            lock-path={_dir}/lock
            spool-path={_dir}/spool
            log-level-console=warn
            log-level-file=off

            [{Stanza}]
            pg1-path={instance.DataDir}
            pg1-port={instance.Port}
            pg1-user={instance.AdminUser}

            """, ct);
        await Shell.RunAsync($"chown -R steward:steward {Shell.Quote(_dir)} && chmod 700 {Shell.Quote(_dir)}", null, ct);
        await Shell.RunAsync(AsSteward($"{Binary} stanza-create"), instance.AdminEnvironment, ct);
    }

    public Task<Timed> BackupAsync(CancellationToken ct) =>
        Shell.TimeAsync(AsSteward($"{Binary} --type=full backup"), instance.AdminEnvironment, ct);

    /// <summary>
    /// <c>pgbackrest restore --type=time</c> into a new directory, then PostgreSQL started on it until it has
    /// replayed to the target and promoted; returns (restore, recovery) wall seconds and whether the marker row is there.
    /// </summary>
    public async Task<(double Restore, double Recovery, string Rows)> PointInTimeAsync(string targetTime, string checkSql, CancellationToken ct)
    {
        var dir = Path.Combine(work, "pgbackrest-restore");
        Directory.CreateDirectory(dir);
        await Shell.RunAsync($"chown steward:steward {Shell.Quote(dir)} && chmod 700 {Shell.Quote(dir)}", null, ct);
        var restore = await Shell.TimeAsync(AsSteward($"{Binary} --pg1-path={Shell.Quote(dir)} --type=time {Shell.Quote("--target=" + targetTime.Replace('T', ' ').TrimEnd('Z') + "+00")} --target-action=promote restore"), null, ct);

        var port = FreePort();
        var psi = new ProcessStartInfo("setpriv") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--reuid=steward", "--regid=steward", "--clear-groups", $"{Instance.PgBin}/postgres", "-D", dir, "-c", $"config_file={Path.Combine(instance.ConfigDir, "postgresql.conf")}", "-c", $"data_directory={dir}", "-c", $"port={port}", "-c", "archive_mode=off" })
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var server = Process.Start(psi)!;
        var log = server.StandardError.ReadToEndAsync(ct);
        try
        {
            while (true)
            {
                if (server.HasExited)
                {
                    throw new InvalidOperationException($"PostgreSQL on the pgBackRest restore exited with {server.ExitCode}: {string.Join('\n', (await log).Split('\n').TakeLast(10))}");
                }

                try
                {
                    if (await instance.SqlAsync("SELECT pg_is_in_recovery()", ct, port) == "f")
                    {
                        break;
                    }
                }
                catch (InvalidOperationException)
                {
                    // Not accepting connections until consistent.
                }

                await Task.Delay(100, ct);
            }

            var recovery = clock.Elapsed.TotalSeconds;
            return (restore.WallSeconds, recovery, await instance.SqlAsync(checkSql, ct, port));
        }
        finally
        {
            if (!server.HasExited)
            {
                Shell.RunAsync($"kill -INT {server.Id}", null, CancellationToken.None).Wait(CancellationToken.None);
                await server.WaitForExitAsync(CancellationToken.None);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static string AsSteward(string command) => $"setpriv --reuid=steward --regid=steward --clear-groups {command}";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

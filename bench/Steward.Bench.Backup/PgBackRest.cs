using System.Security.Cryptography;

namespace Steward.Bench.Backup;

/// <summary>
/// pgBackRest on the same instance: zstd level 3, AES-256-CBC, one process, run as the data directory's owner.
/// The instance archives no WAL, so backups run with <c>--archive-check=n</c>.
/// </summary>
internal sealed class PgBackRest(Target target, string work)
{
    private const string Stanza = "bench";
    private readonly string _dir = Path.Combine(work, "pgbackrest");

    internal sealed record Result(Timed Backup, long OutputBytes, Timed Restore);

    public static string? Version { get; private set; }

    private string Config => Path.Combine(_dir, "pgbackrest.conf");

    private IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["PGPASSWORD"] = target.AdminPassword, ["PGHOST"] = "127.0.0.1" };

    public string Command(string action) => $"setpriv --reuid=steward --regid=steward --clear-groups pgbackrest --config={Shell.Quote(Config)} --stanza={Stanza} {action}";

    public async Task SetUpAsync(CancellationToken ct)
    {
        Version = await Shell.RunAsync("pgbackrest version", null, ct);
        Directory.CreateDirectory(_dir);
        await File.WriteAllTextAsync(Config, $"""
            [global]
            repo1-path={_dir}/repo
            repo1-cipher-type=aes-256-cbc
            repo1-cipher-pass={Convert.ToHexString(RandomNumberGenerator.GetBytes(32))}
            compress-type=zst
            compress-level=3
            process-max=1
            start-fast=y
            archive-check=n
            backup-standby=n
            log-path={_dir}/log
            lock-path={_dir}/lock
            spool-path={_dir}/spool
            log-level-console=warn
            log-level-file=off

            [{Stanza}]
            pg1-path={target.DataDir}
            pg1-port={target.Port}
            pg1-user={target.AdminUser}

            """, ct);
        await Shell.RunAsync($"chown -R steward:steward {Shell.Quote(_dir)} && chmod 700 {Shell.Quote(_dir)}", null, ct);
        await Shell.RunAsync(Command("stanza-create"), Environment, ct);
    }

    public async Task<Result> RunAsync(int run, CancellationToken ct)
    {
        var backup = await Shell.TimeAsync(Command("--type=full --archive-check=n backup"), Environment, ct);
        var labels = new DirectoryInfo(Path.Combine(_dir, "repo", "backup", Stanza)).GetDirectories("*F").OrderBy(d => d.Name).ToList();
        var size = labels[^1].EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        var restoreDir = Path.Combine(_dir, $"restore-{run}");
        await Shell.RunAsync($"mkdir -m 700 {Shell.Quote(restoreDir)} && chown steward:steward {Shell.Quote(restoreDir)}", null, ct);
        var restore = await Shell.TimeAsync(Command($"--pg1-path={Shell.Quote(restoreDir)} restore"), Environment, ct);
        Directory.Delete(restoreDir, recursive: true);
        await Shell.RunAsync(Command("--repo1-retention-full=1 expire"), Environment, ct);
        return new Result(backup, size, restore);
    }
}

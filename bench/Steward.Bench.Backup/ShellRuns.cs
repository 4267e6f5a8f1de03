namespace Steward.Bench.Backup;

/// <summary>The same backup by hand: the shell pipeline, each of its stages alone, and the restore by hand.</summary>
internal sealed class ShellRuns(Target target, string work)
{
    private const string Zstd = "zstd -q -3 -T1";
    private readonly string _tar = Path.Combine(work, "base.tar");
    private readonly string _zst = Path.Combine(work, "base.tar.zst");

    /// <param name="Start">With <c>startServer</c>: <c>pg_ctl start -w</c> on the restored directory, until the server accepts connections.</param>
    internal sealed record PipelineResult(Timed Backup, long OutputBytes, Timed Restore, Timed? Start = null);

    internal sealed record StageResult(string Name, string Command, Timed Time);

    private string BaseBackup => $"{Target.PgBin}/pg_basebackup -h 127.0.0.1 -p {target.Port} -U {target.AdminUser} -D - -Ft -X fetch -c fast";

    public string PipelineCommand => $"pg_basebackup -h 127.0.0.1 -p PORT -U {target.AdminUser} -D - -Ft -X fetch -c fast | {Zstd} | age -r $KEY > file";

    public async Task<PipelineResult> PipelineAsync(int run, CancellationToken ct, bool startServer = false)
    {
        var output = Path.Combine(work, $"pipeline-{run}.tar.zst.age");
        var backup = await Shell.TimeAsync($"{BaseBackup} | {Zstd} | age -r {target.Recipient} > {Shell.Quote(output)}", target.AdminEnvironment, ct);
        var size = new FileInfo(output).Length;
        var dir = Path.Combine(work, $"pipeline-restore-{run}");
        Directory.CreateDirectory(dir);
        var restore = await Shell.TimeAsync($"age -d -i {Shell.Quote(target.IdentityFile)} {Shell.Quote(output)} | zstd -q -d | tar -x -C {Shell.Quote(dir)}", null, ct);
        var start = startServer ? await StartAsync(dir, ct) : null;
        Directory.Delete(dir, recursive: true);
        File.Delete(output);
        return new PipelineResult(backup, size, restore, start);
    }

    /// <summary>
    /// What a person does after the raw restore before anyone can use the data: starts PostgreSQL on the restored
    /// directory (as the unprivileged user, on a free port, WAL archiving off) and waits until it accepts connections;
    /// PostgreSQL syncs the directory, replays the backup's WAL and checkpoints first. The ownership change before it is not timed.
    /// </summary>
    private static async Task<Timed> StartAsync(string dir, CancellationToken ct)
    {
        await Shell.RunAsync($"chown -R steward:steward {Shell.Quote(dir)} && chmod 700 {Shell.Quote(dir)}", null, ct);
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var pgCtl = $"setpriv --reuid=steward --regid=steward --clear-groups {Target.PgBin}/pg_ctl -D {Shell.Quote(dir)} -l {Shell.Quote(Path.Combine(dir, "start.log"))}";
        var options = $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dir} -c archive_mode=off";
        try
        {
            return await Shell.TimeAsync($"{pgCtl} -w -t 300 -o {Shell.Quote(options)} start > /dev/null", null, ct);
        }
        finally
        {
            await Shell.RunAsync($"{pgCtl} -m immediate stop > /dev/null 2>&1; true", null, ct);
        }
    }

    /// <summary>Each stage of the pipeline on its own, reading a file in the page cache and writing to /dev/null.</summary>
    public async Task<IReadOnlyList<StageResult>> StagesAsync(CancellationToken ct)
    {
        var results = new List<StageResult>
        {
            new("pg_basebackup", "pg_basebackup -D - -Ft -X fetch -c fast > /dev/null", await Shell.TimeAsync($"{BaseBackup} > /dev/null", target.AdminEnvironment, ct)),
        };
        if (!File.Exists(_tar))
        {
            await Shell.RunAsync($"{BaseBackup} > {Shell.Quote(_tar)} && {Zstd} < {Shell.Quote(_tar)} > {Shell.Quote(_zst)}", target.AdminEnvironment, ct);
        }

        results.Add(new("zstd -3", $"{Zstd} < base.tar > /dev/null", await Shell.TimeAsync($"{Zstd} < {Shell.Quote(_tar)} > /dev/null", null, ct)));
        results.Add(new("age", "age -r $KEY < base.tar.zst > /dev/null", await Shell.TimeAsync($"age -r {target.Recipient} < {Shell.Quote(_zst)} > /dev/null", null, ct)));

        // Not a stage either: the shell pipeline doing the same work as Steward, which also hashes the plaintext (BLAKE3,
        // with Debian's b3sum) and the stored bytes (SHA-256, 5 % of the plaintext here, left out).
        var equalWork = Path.Combine(work, "pipeline-b3.tar.zst.age");
        results.Add(new(
            "shell pipeline + BLAKE3 of the plaintext (Steward's work until c1d2fe7)",
            "pg_basebackup … | tee >(b3sum > sum) | zstd -3 -T1 | age -r $KEY > file",
            await Shell.TimeAsync($"{BaseBackup} | tee >(b3sum > {Shell.Quote(Path.Combine(work, "plaintext.b3"))}) | {Zstd} | age -r {target.Recipient} > {Shell.Quote(equalWork)}", target.AdminEnvironment, ct)));
        File.Delete(equalWork);

        // Not a stage of the pipeline: zstd with compression and I/O on one thread, as an in-process binding does it.
        results.Add(new("zstd -3, one thread (reference)", "zstd -q -3 --single-thread < base.tar > /dev/null", await Shell.TimeAsync($"zstd -q -3 --single-thread < {Shell.Quote(_tar)} > /dev/null", null, ct)));
        return results;
    }
}

using System.Globalization;
using Steward.Bench.Backup;
using Steward.Security;
using Steward.Server.Tests.Infrastructure;
using Steward.State.Sqlite;

namespace Steward.Bench.Wal;

/// <summary>The PostgreSQL instance under test, loaded with pgbench data, and the superuser access the baselines need.</summary>
internal sealed record Instance(string Id, int Port, string Root, string AdminUser, string AdminPassword, string Uri)
{
    public const string PgBin = "/usr/lib/postgresql/15/bin";

    public string DataDir => Path.Combine(Root, "data");

    public string ConfigDir => Path.Combine(Root, "config");

    public IReadOnlyDictionary<string, string> AdminEnvironment => new Dictionary<string, string> { ["PGPASSWORD"] = AdminPassword, ["PGHOST"] = "127.0.0.1", ["PGPORT"] = Port.ToString(CultureInfo.InvariantCulture), ["PGUSER"] = AdminUser };

    /// <summary>Steward's own archive_command for this instance (written by the broker into its postgresql.conf).</summary>
    public string StewardArchiveCommand => $"sh \"{Path.Combine(ConfigDir, "steward-wal")}\" push %f \"%p\"";

    public static async Task<Instance> CreateAsync(StewardServer server, string id, int scale, CancellationToken ct)
    {
        var osb = server.Client;
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
        var uri = (await osb.BindReadyAsync(id, "bench-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge)).GetProperty("uri").GetString()!;
        var details = (await osb.ApiAsync($"/instances/{id}")).Body;
        var store = new SqliteStateStore(Path.Combine(server.DataDir, "steward.db"), CredentialKey.LoadOrCreate(Path.Combine(server.DataDir, CredentialKey.FileName)));
        var record = await store.GetInstanceAsync(id, ct) ?? throw new InvalidOperationException($"instance {id} is not in the state database");
        var instance = new Instance(id, details.GetProperty("port").GetInt32(), details.GetProperty("directory").GetString()!, record.AdminUser, record.AdminPassword, uri);
        Console.WriteLine($"loading pgbench scale {scale} into {id} (port {instance.Port})...");
        var load = await Shell.TimeAsync($"{PgBin}/pgbench -i -q -s {scale} {Shell.Quote(uri)}", null, ct);
        Console.WriteLine($"  loaded in {load.WallSeconds:F1} s");
        await instance.SqlAsync("CHECKPOINT", ct);
        return instance;
    }

    public Task<string> SqlAsync(string sql, CancellationToken ct, int? port = null) =>
        Shell.RunAsync($"{PgBin}/psql -d app -Atqc {Shell.Quote(sql)}" + (port is { } p ? $" -p {p}" : string.Empty), AdminEnvironment, ct);

    public async Task<long> WalBytesAsync(CancellationToken ct) =>
        long.Parse(await SqlAsync("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", ct), CultureInfo.InvariantCulture);

    /// <summary>Sets (or with null, returns to Steward's) archive_command in postgresql.auto.conf and reloads.</summary>
    public async Task SetArchiveCommandAsync(string? command, CancellationToken ct)
    {
        var file = Path.Combine(DataDir, "postgresql.auto.conf");
        var lines = (await File.ReadAllLinesAsync(file, ct)).Where(l => !l.TrimStart().StartsWith("archive_command", StringComparison.Ordinal)).ToList();
        if (command is not null)
        {
            lines.Add($"archive_command = '{command.Replace("'", "''", StringComparison.Ordinal)}'");
        }

        await File.WriteAllLinesAsync(file, lines, ct);
        await SqlAsync("SELECT pg_reload_conf()", ct);
        var expected = command ?? StewardArchiveCommand;
        for (var i = 0; i < 100 && await SqlAsync("SHOW archive_command", ct) != expected; i++)
        {
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Waits until PostgreSQL has nothing left to archive (no <c>.ready</c> file).</summary>
    public async Task WaitArchivedAsync(TimeSpan timeout, CancellationToken ct)
    {
        var status = Path.Combine(DataDir, "pg_wal", "archive_status");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Directory.GetFiles(status, "*.ready").Length > 0)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Directory.GetFiles(status, "*.ready").Length} segment(s) still wait to be archived after {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(100, ct);
        }
    }
}

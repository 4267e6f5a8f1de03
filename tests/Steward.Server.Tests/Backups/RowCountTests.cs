using System.Diagnostics;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>
/// A PostgreSQL backup records every table's rows as they were before it started and after it ended (for restore
/// rehearsals to compare). The first count runs beside the copy; the second is made only when a transaction that could
/// have changed a row ended meanwhile, and otherwise equals the first exactly.
/// </summary>
[Collection("backups")]
public sealed class RowCountTests(BackupBrokers brokers)
{
    [Fact]
    public async Task A_backup_nobody_writes_during_counts_once_and_one_written_during_counts_again_and_sees_the_writes()
    {
        var osb = brokers.FileSystem.Client;
        var id = "pg-rows-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var uri = (await osb.BindReadyAsync(id, "app-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE quiet AS SELECT g FROM generate_series(1, 30000) g; CREATE TABLE busy (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");

        // Nobody writes: the counts after are the counts before, from one pass. The health check's heartbeat commits
        // once after others wrote (docs/supervision.md), so a backup that saw a transaction end is taken again.
        JsonElement idle = default;
        for (var attempt = 1; ; attempt++)
        {
            var horizon = await NextTransactionAsync(uri);
            idle = Properties(await osb.BackupAsync(id));
            if (await NextTransactionAsync(uri) == horizon)
            {
                break;
            }

            attempt.ShouldBeLessThan(5, "a transaction ended during every backup");
        }

        idle.GetProperty("row_counts_passes").GetString().ShouldBe("1", idle.GetRawText());
        Counts(idle)["public.quiet"].ShouldBe([30000, 30000]);
        Counts(idle)["public.busy"].ShouldBe([0, 0]);

        // Someone writes all along: counted again after the copy, and the writes in between are seen.
        using var stop = new CancellationTokenSource();
        var written = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Sql.ExecAsync(uri, "INSERT INTO busy DEFAULT VALUES");
                written++;
            }
        });
        var clock = Stopwatch.StartNew();
        while (Volatile.Read(ref written) < 20)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the writer wrote");
            await Task.Delay(20);
        }

        var busy = Properties(await osb.BackupAsync(id));
        await stop.CancelAsync();
        await writer;
        busy.GetProperty("row_counts_passes").GetString().ShouldBe("2", busy.GetRawText());
        var (before, after) = (Counts(busy)["public.busy"][0], Counts(busy)["public.busy"][1]);
        before.ShouldBeGreaterThan(0, busy.GetRawText());
        after.ShouldBeGreaterThan(before, "rows written while the backup ran are counted after it: " + busy.GetRawText());
        Counts(busy)["public.quiet"].ShouldBe([30000, 30000]);

        (await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).Status.ShouldBe(System.Net.HttpStatusCode.Accepted);
    }

    private static JsonElement Properties(JsonElement backup) => backup.GetProperty("manifest").GetProperty("properties");

    /// <summary>The <c>app</c> database's recorded counts: table → [before, after].</summary>
    private static Dictionary<string, long[]> Counts(JsonElement properties) =>
        JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, long[]>>>(properties.GetProperty("row_counts").GetString()!)!["app"];

    private static async Task<string> NextTransactionAsync(string uri) => (await Sql.ScalarAsync(uri, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text"))!;
}

using System.Diagnostics;
using System.Net;
using Steward.Server.Tests.Backups;

namespace Steward.Server.Tests.Wal;

/// <summary>Retention of base backups carries the WAL archive with it, and never what the kept backups need.</summary>
[Collection("wal")]
public sealed class WalRetentionTests(WalBroker broker)
{
    [Fact]
    public async Task Retention_removes_the_WAL_only_deleted_base_backups_needed_and_latest_stays_restorable()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "wal-ret-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        var first = (await osb.BackupAsync(id, "physical")).Text("id");
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 150000)");
        await Pitr.WaitArchivedAsync(osb, id);
        var before = await Pitr.SegmentsAsync(osb, id);

        // keep-last 1 with the next scheduled run a day away: the next manual backup's retention pass deletes the first.
        var set = await osb.SendAsync(HttpMethod.Put, $"/api/v1/instances/{id}/backup-schedule", new { every = "24h", keep_last = 1 }, version: null);
        set.Status.ShouldBe(HttpStatusCode.OK, set.ToString());
        var second = await osb.BackupAsync(id, "physical");
        var clock = Stopwatch.StartNew();
        IReadOnlyList<string> after;
        while ((await osb.ApiAsync($"/backups/{first}")).Status != HttpStatusCode.NotFound || (after = await Pitr.SegmentsAsync(osb, id)).Contains(before[0]))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"backup {first} and the WAL only it needed are not deleted by retention");
            await Task.Delay(200);
        }

        // The WAL before the second backup went with the first; what follows it is complete.
        var firstKept = after.Select(Pitr.SegmentNumber).Min();
        before.Where(s => Pitr.SegmentNumber(s) < firstKept).ShouldNotBeEmpty("the first backup's WAL is pruned");
        after.Count.ShouldBeGreaterThanOrEqualTo(1);
        Pitr.ShouldHaveNoGap(after);
        var window = (await Pitr.WindowAsync(osb, id)).Body;
        window.GetProperty("earliest_recoverable_time").GetDateTimeOffset().ShouldBe(second.GetProperty("completed_at").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));

        // Storage holds exactly what the catalog lists: no object of a pruned file is left behind. The server goes on
        // archiving meanwhile, so the stored objects lie between the catalog read before and after them (a segment
        // being uploaded is a temporary ".partial-" file until it is stored).
        async Task<HashSet<string>> CatalogAsync() => (await osb.ApiAsync($"/instances/{id}/wal/files")).Body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("key").GetString()!).ToHashSet();
        var listedBefore = await CatalogAsync();
        var archive = Path.Combine(server.DataDir, "backups", "archive", id);
        var stored = Directory.GetFiles(archive).Select(f => $"archive/{id}/{Path.GetFileName(f)}")
            .Where(k => !k.EndsWith(".manifest.json", StringComparison.Ordinal) && !Path.GetFileName(k).StartsWith(".partial-", StringComparison.Ordinal)).ToHashSet();
        var listedAfter = await CatalogAsync();
        listedBefore.Except(stored).ShouldBeEmpty("every file the catalog lists is in storage");
        stored.Except(listedAfter).ShouldBeEmpty("storage holds nothing the catalog does not list");

        // Nothing the latest recoverable point needs is gone: a restore to latest brings back every row.
        var last = await Pitr.InsertAsync(uri, 150001);
        await Pitr.WaitRecoverableAsync(osb, id, last);
        await Sql.ExecAsync(uri, "DELETE FROM t");
        await Pitr.RestoreAsync(server, id, new { to_time = last.UtcDateTime.ToString("O") });
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM t")).ShouldBe("150001");
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }
}

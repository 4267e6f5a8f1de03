using System.Diagnostics;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Wal;

/// <summary>
/// An instance nobody writes to archives nothing (docs/supervision.md#what-a-check-proves): the health check's heartbeat
/// is not committed at every check, so there is no WAL for archive_timeout to complete into a segment; a write after
/// the idleness is still archived within the bound.
/// </summary>
public sealed class IdleArchivingTests
{
    [Fact]
    public async Task An_idle_instance_archives_no_segment_every_archive_timeout_and_a_write_after_idleness_is_still_archived()
    {
        // archive_timeout 2 s and a check every second: a heartbeat commit at every check would complete a segment
        // every 2 s (about 20 in the 40 s below).
        await using var server = await StewardServer.StartAsync(new Dictionary<string, string>
        {
            ["STEWARD_WAL_ARCHIVE_TIMEOUT"] = "2",
            ["STEWARD_WAL_MONITOR_INTERVAL_MS"] = "500",
            ["STEWARD_HEALTH_INTERVAL_MS"] = "1000",
        });
        var osb = server.Client;
        var id = "wal-idle-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await Pitr.WaitArchivedAsync(osb, id);

        // Settled: what provisioning and the table wrote (and the first checkpoint) is archived; no new segment for 6 s.
        var settle = Stopwatch.StartNew();
        var before = (await Pitr.SegmentsAsync(osb, id)).Count;
        for (var stable = Stopwatch.StartNew(); stable.Elapsed < TimeSpan.FromSeconds(6); await Task.Delay(500))
        {
            var now = (await Pitr.SegmentsAsync(osb, id)).Count;
            if (now != before)
            {
                (before, stable) = (now, Stopwatch.StartNew());
            }

            settle.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the instance kept archiving after provisioning");
        }

        var idle = Stopwatch.StartNew();
        var checkedAt = new HashSet<string>();
        while (idle.Elapsed < TimeSpan.FromSeconds(40))
        {
            // Each round waits for the next health check (a new last_check), then counts the segments after it.
            var health = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("health");
            for (var next = Stopwatch.StartNew(); checkedAt.Contains(health.GetProperty("last_check").GetString()!); health = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("health"))
            {
                next.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the health checks went on during the idle time");
                await Task.Delay(100);
            }

            health.GetProperty("status").GetString().ShouldBe("healthy", health.ToString());
            checkedAt.Add(health.GetProperty("last_check").GetString()!);
            var segments = await Pitr.SegmentsAsync(osb, id);
            // Allowance for what the server does by itself now and then (an autoanalyze of the new database's catalogs,
            // with the heartbeat its transaction id calls for): with a 2 s archive_timeout each becomes its own segment.
            (segments.Count - before).ShouldBeLessThanOrEqualTo(3, $"segments archived by an instance nobody writes to after {idle.Elapsed.TotalSeconds:0} s: {string.Join(", ", segments)}");
        }

        checkedAt.Count.ShouldBeGreaterThan(5, "the health checks went on during the idle time");

        // A write after the idleness: its segment is archived within archive_timeout plus the archiver's round trip.
        await Sql.ExecAsync(uri, "INSERT INTO t (v) VALUES (1)");
        var written = (await Sql.ScalarAsync(uri, "SELECT pg_walfile_name(pg_current_wal_lsn())"))!;
        var clock = Stopwatch.StartNew();
        while (!(await Pitr.SegmentsAsync(osb, id)).Contains(written))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"the segment {written} holding the last write was not archived");
            await Task.Delay(250);
        }

        (await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan)).Status.ShouldBe(System.Net.HttpStatusCode.Accepted);
    }
}

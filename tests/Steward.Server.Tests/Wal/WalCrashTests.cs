using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Steward.Backup.Tests.Infrastructure;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Wal;

/// <summary>
/// kill -9 of the broker or of the archiver, and storage that goes away, while WAL is archived or a point-in-time
/// restore runs: PostgreSQL keeps what was not acknowledged and retries, the chain has no gap, the restore resumes.
/// Each test owns its broker, since it kills it.
/// </summary>
public sealed class WalCrashTests
{
    [Fact]
    public async Task Killing_the_broker_and_the_archiver_mid_archive_leaves_no_gap_in_the_chain()
    {
        await using var server = await StewardServer.StartAsync(WalBroker.FastArchiving());
        var osb = server.Client;
        var id = "wal-kill-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        var writing = Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 700000)");
        await WaitAsync(async () => (await Pitr.SegmentsAsync(osb, id)).Count >= 1, "a first segment archived");

        // The archiver first: a curl upload killed mid-way is a failed archive_command, retried by PostgreSQL.
        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        var clock = Stopwatch.StartNew();
        var killedArchiver = false;
        while (!killedArchiver && clock.Elapsed < TimeSpan.FromSeconds(30) && !writing.IsCompleted)
        {
            foreach (var pid in Processes.Under(directory).Where(p => Processes.CommandLine(p).StartsWith("curl", StringComparison.Ordinal)))
            {
                Processes.Kill(pid, 9);
                killedArchiver = true;
            }

            await Task.Delay(20);
        }

        await server.KillAsync();
        await writing;
        await Pitr.InsertAsync(uri, 700001);
        await WaitAsync(async () => long.Parse((await Sql.ScalarAsync(uri, "SELECT failed_count FROM pg_stat_archiver"))!, System.Globalization.CultureInfo.InvariantCulture) > 0, "failed archive attempt against the dead broker", 60);
        await server.StartProcessAsync();

        var status = await Pitr.WaitArchivedAsync(osb, id);
        var segments = await Pitr.SegmentsAsync(osb, id);
        segments.Count.ShouldBeGreaterThanOrEqualTo(4);
        Pitr.ShouldHaveNoGap(segments);
        status.Body.GetProperty("last_archived_segment").GetString().ShouldBe(segments[^1]);
        (await File.ReadAllTextAsync(Path.Combine(directory, "log", "server.log"))).ShouldContain("archive command failed", customMessage: "PostgreSQL saw the failures and kept the segments");
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    [Fact]
    public async Task A_point_in_time_restore_interrupted_by_kill_9_finishes_after_restart()
    {
        await using var server = await StewardServer.StartAsync(WalBroker.FastArchiving());
        var osb = server.Client;
        var id = "pitr-kill-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await osb.BackupAsync(id);
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 400000)");
        var last = await Pitr.InsertAsync(uri, 400001);
        await Pitr.WaitRecoverableAsync(osb, id, last);
        await Sql.ExecAsync(uri, "DELETE FROM t");

        var started = await Pitr.StartRestoreAsync(osb, id, new { to_time = last.UtcDateTime.ToString("O") });
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        // Killed during replay, with segments fetched ahead into the instance's own spool: the resumed restore starts
        // the recovering server while the new broker is still starting, so its restore_command first meets a broker
        // that does not answer yet; the new broker removes the spools the killed one left before it serves anything.
        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        var spool = Path.Combine(server.DataDir, "wal-spool", id);
        var own = Path.Combine(directory, "wal-spool");
        await WaitAsync(() => Task.FromResult(WalSpoolTests.Spooled(own).Any(f => !Path.GetFileName(f).StartsWith('.'))), "segment fetched ahead into the instance's spool during replay", 120, 10);
        await server.KillAsync();
        Directory.Exists(own).ShouldBeTrue("the killed broker left the instance's spool");
        await server.StartProcessAsync();
        await WaitAsync(() => Task.FromResult(server.Log.Contains($"Removed the WAL spool of instance {id} at {own} left by a previous broker", StringComparison.Ordinal)), "removal of the orphaned spool logged", 30);

        var done = await osb.WaitAsync(id, started.Str("operation"), 300);
        done.Str("state").ShouldBe("succeeded", done + "\n" + ServerLogTail(directory));
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM t")).ShouldBe("400001");
        Directory.Exists(Path.Combine(directory, "restore-staging")).ShouldBeFalse();
        Directory.Exists(Path.Combine(directory, "data.pre-restore")).ShouldBeFalse();
        Directory.Exists(spool).ShouldBeFalse("the spool goes when the restore ends");
        Directory.Exists(own).ShouldBeFalse("the instance's spool goes when the restore ends");
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal)).ShouldBe(1);
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    [Fact]
    public async Task Storage_that_goes_away_raises_an_incident_and_archiving_catches_up_without_a_gap_when_it_is_back()
    {
        var s3 = new S3rverFixture();
        await s3.InitializeAsync();
        try
        {
            await StorageOutageAsync(s3);
        }
        finally
        {
            await s3.DisposeAsync();
        }
    }

    private static async Task StorageOutageAsync(S3rverFixture s3)
    {
        await using var server = await StewardServer.StartAsync(WalBroker.FastArchiving(BackupBrokers.S3Settings(s3)));
        var osb = server.Client;
        var id = "wal-s3-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await Pitr.WaitArchivedAsync(osb, id);

        s3.Kill();
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 300000)");
        string? incidentId = null, incidentState = null;
        await WaitAsync(async () =>
        {
            var list = (await osb.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray().ToList();
            var found = list.FirstOrDefault(i => i.GetProperty("class").GetString() == "wal-archive-behind" && i.GetProperty("state").GetString() == "open");
            (incidentId, incidentState) = found.ValueKind == JsonValueKind.Object ? (found.GetProperty("id").GetString(), found.GetProperty("state").GetString()) : (null, null);
            return incidentId is not null;
        }, "a wal-archive-behind incident", 120);
        incidentState.ShouldBe("open", (await osb.ApiAsync($"/incidents/{incidentId}")).ToString());
        var status = (await Pitr.StatusAsync(osb, id)).Body;
        status.GetProperty("pending_segments").GetInt32().ShouldBeGreaterThan(0);
        status.GetProperty("lag_seconds").GetDouble().ShouldBeGreaterThan(4, "the oldest unarchived segment waits longer than the alert");
        status.GetProperty("incident_id").GetString().ShouldBe(incidentId);

        await s3.RestartAsync();
        await Pitr.WaitArchivedAsync(osb, id, 180);
        Pitr.ShouldHaveNoGap(await Pitr.SegmentsAsync(osb, id));
        await WaitAsync(async () => (await osb.ApiAsync($"/incidents/{incidentId}")).Str("state") == "resolved", "the incident resolved");
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    private static string ServerLogTail(string directory)
    {
        var log = File.ReadAllText(Path.Combine(directory, "log", "server.log"));
        return log[^Math.Min(log.Length, 6000)..];
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 90, int pollMs = 100)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"no {what} within {seconds} s");
            }

            await Task.Delay(pollMs);
        }
    }
}

using System.Diagnostics;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Rehearsals;

namespace Steward.Server.Tests.Wal;

/// <summary>
/// A point-in-time restore replays the archive from the instance's own spool: the broker's read-ahead puts verified
/// segments into {instance}/wal-spool, and restore_command takes them by a rename instead of asking the broker over
/// HTTP for each; the spool is the service user's alone and is gone when the restore ends.
/// </summary>
[Collection("wal")]
public sealed class InstanceSpoolTests(WalBroker broker)
{
    [Fact]
    public async Task A_restore_takes_the_segments_read_ahead_from_the_instances_own_spool_by_a_rename_not_over_http()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "wal-own-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await osb.BackupAsync(id);

        // About 64 MB of WAL (uncompressed 8 kB values): a dozen segments for recovery to replay after the base backup.
        await Sql.ExecAsync(uri, "CREATE TABLE w (b text); ALTER TABLE w ALTER b SET STORAGE EXTERNAL");
        await Sql.ExecAsync(uri, "INSERT INTO w SELECT repeat('x', 8000) FROM generate_series(1, 8000)");
        var last = await Pitr.InsertAsync(uri, 1);
        await Pitr.WaitRecoverableAsync(osb, id, last, 180);
        await Sql.ExecAsync(uri, "DELETE FROM t; DROP TABLE w");

        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        var own = Path.Combine(directory, "wal-spool");
        var started = await Pitr.StartRestoreAsync(osb, id, new { to_time = last.UtcDateTime.ToString("O") });
        started.Status.ShouldBe(System.Net.HttpStatusCode.Accepted, started.ToString());

        // While it replays, the spool is private to the service user, and only complete files carry a WAL name.
        var clock = Stopwatch.StartNew();
        UnixFileMode? mode = null;
        while (mode is null && clock.Elapsed < TimeSpan.FromSeconds(180))
        {
            try
            {
                if (Directory.Exists(own) && Directory.GetFiles(own).Length > 0)
                {
                    mode = File.GetUnixFileMode(own);
                    foreach (var file in Directory.GetFiles(own))
                    {
                        File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite, file);
                    }
                }
            }
            catch (IOException)
            {
                // A file renamed away while looked at.
            }

            await Task.Delay(10);
        }

        mode.ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, "the instance's spool is private to the service user");
        var done = await osb.WaitAsync(id, started.Str("operation"), 300);
        done.Str("state").ShouldBe("succeeded", done.ToString());
        (await Pitr.RowsAsync(uri)).ShouldBe("1");
        Directory.Exists(own).ShouldBeFalse("the instance's spool goes when the restore ends");

        // Most segments were renamed out of the spool; the broker served only a few over HTTP.
        var metrics = await Rehearse.ScrapeAsync(server);
        double Served(string source) => metrics.Find("steward_wal_restore_files_total", ("instance_id", id), ("source", source)).Sum(f => f.Value);
        var renamed = Served("rename");
        var http = Served("spool") + Served("storage");

        // The read-ahead started from the backup's first segment while the backup was unpacked, before the server ran:
        // only the segment recovery ended in comes from storage (asked for again as the new timeline begins), not the
        // first one as well (with the read-ahead started by the first request: renamed 7, storage 2).
        Served("storage").ShouldBeLessThanOrEqualTo(1, $"segments read from storage while the server waited (renamed: {renamed})");
        renamed.ShouldBeGreaterThanOrEqualTo(4, $"segments taken from the instance's spool (served over HTTP: {http})");
        http.ShouldBeLessThan(renamed, $"served over HTTP while {renamed} were renamed");
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }
}

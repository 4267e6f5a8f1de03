using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Backups;

namespace Steward.Server.Tests.Wal;

/// <summary>Point-in-time restore on a real server, from a base backup plus the archived WAL, across timelines.</summary>
[Collection("wal")]
public sealed class PointInTimeRestoreTests(WalBroker broker)
{
    [Fact]
    public async Task Restores_to_latest_then_to_a_time_between_two_commits_then_to_a_restore_point_and_to_a_time_on_the_second_timeline()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "pitr-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await osb.BackupAsync(id);
        var c1 = await Pitr.InsertAsync(uri, 1);
        await Pitr.WaitServerClockAsync(uri, c1 + TimeSpan.FromMilliseconds(1200));
        var c2 = await Pitr.InsertAsync(uri, 2);
        await Pitr.WaitServerClockAsync(uri, c2 + TimeSpan.FromMilliseconds(300));
        var c3 = await Pitr.InsertAsync(uri, 3);
        var point = await osb.PostAsync($"/instances/{id}/restore-points", new { name = "after-3" });
        point.Status.ShouldBe(HttpStatusCode.Created, point.ToString());
        var c4 = await Pitr.InsertAsync(uri, 4);
        await Pitr.WaitRecoverableAsync(osb, id, c4);

        // Latest: every archived row.
        var latest = await Pitr.RestoreAsync(server, id, new { latest = true });
        latest.Str("description")!.ShouldContain("timeline 2");
        (await Pitr.RowsAsync(uri)).ShouldBe("1,2,3,4");
        var onTimeline2 = await Pitr.InsertAsync(uri, 5);
        await Pitr.WaitServerClockAsync(uri, onTimeline2 + TimeSpan.FromMilliseconds(1200));

        // The data is destroyed; a time between the commits of rows 1 and 2 brings back exactly row 1.
        await Sql.ExecAsync(uri, "DELETE FROM t");
        var destroyed = await Pitr.InsertAsync(uri, 100);
        await Pitr.WaitRecoverableAsync(osb, id, destroyed);
        var between = c1 + ((c2 - c1) / 2);
        var toTime = await Pitr.RestoreAsync(server, id, new { to_time = between.UtcDateTime.ToString("O") });
        toTime.Str("description")!.ShouldContain("timeline 1", customMessage: "that time was lived on the first timeline");
        (await Pitr.RowsAsync(uri)).ShouldBe("1");

        // The named restore point, created on the first timeline after row 3.
        await Pitr.RestoreAsync(server, id, new { to_restore_point = "after-3" });
        (await Pitr.RowsAsync(uri)).ShouldBe("1,2,3");

        // A time after the first restore: the second timeline's history (rows 1-5), not the first's.
        await Pitr.RestoreAsync(server, id, new { to_time = (onTimeline2 + TimeSpan.FromMilliseconds(600)).UtcDateTime.ToString("O") });
        (await Pitr.RowsAsync(uri)).ShouldBe("1,2,3,4,5");

        // The instance keeps archiving on its new timeline.
        var after = await Pitr.InsertAsync(uri, 6);
        await Pitr.WaitRecoverableAsync(osb, id, after);
        var window = (await Pitr.WindowAsync(osb, id)).Body;
        window.GetProperty("timeline").GetInt32().ShouldBeGreaterThanOrEqualTo(5);
        window.GetProperty("timelines").GetArrayLength().ShouldBeGreaterThanOrEqualTo(5);
        Pitr.ShouldHaveNoGap(await Pitr.SegmentsAsync(osb, id));
        _ = c3;
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    [Fact]
    public async Task A_restore_whose_archived_WAL_turns_out_damaged_fails_and_the_instance_keeps_its_data_from_before()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "pitr-dmg-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await osb.BackupAsync(id);
        var c1 = await Pitr.InsertAsync(uri, 1);
        await Pitr.WaitServerClockAsync(uri, c1 + TimeSpan.FromMilliseconds(300));
        var c2 = await Pitr.InsertAsync(uri, 2);
        await Pitr.WaitRecoverableAsync(osb, id, c2);

        // Accepted (the plan saw a whole chain), then every archived segment is damaged in storage before the
        // restored server asks for it: the replay cannot reach the target.
        var started = await Pitr.StartRestoreAsync(osb, id, new { to_time = c1.UtcDateTime.ToString("O") });
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var archived = Path.Combine(server.DataDir, "backups", Path.GetDirectoryName(Steward.Server.Backups.Wal.WalArchive.KeyOf(id, "x"))!);
        var segments = Directory.EnumerateFiles(archived).Where(f => Path.GetFileName(f) is { Length: 24 } name && name.All(char.IsAsciiHexDigit)).ToList();
        segments.ShouldNotBeEmpty(archived);
        foreach (var file in segments)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            bytes[bytes.Length / 2] ^= 0x01;
            await File.WriteAllBytesAsync(file, bytes);
        }

        var done = await osb.WaitAsync(id, started.Str("operation"), 300);
        done.Str("state").ShouldBe("failed", done.ToString());
        done.Str("description")!.ShouldContain("the instance keeps its data from before the restore", customMessage: done.ToString());
        (await Pitr.RowsAsync(uri)).ShouldBe("1,2", "the data from before the restore is back and serving");
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    [Fact]
    public async Task An_idle_instance_makes_its_last_write_recoverable_within_60_seconds()
    {
        var osb = broker.Server.Client;
        var id = "pitr-rpo-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await osb.BackupAsync(id);
        var committed = await Pitr.InsertAsync(uri, 1);

        // Nothing else is written; only archive_timeout completes the segment.
        var took = await Pitr.WaitRecoverableAsync(osb, id, committed, 60);
        took.ShouldBeLessThan(TimeSpan.FromSeconds(60));
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    [Fact]
    public async Task Targets_it_cannot_reach_are_refused_precisely_and_change_nothing()
    {
        var osb = broker.Server.Client;
        var id = "pitr-bad-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        (await Pitr.StartRestoreAsync(osb, id, new { latest = true })).Str("description")!.ShouldContain("no succeeded physical backup");
        await osb.BackupAsync(id);
        var c1 = await Pitr.InsertAsync(uri, 1);
        await Pitr.WaitRecoverableAsync(osb, id, c1);
        var window = (await Pitr.WindowAsync(osb, id)).Body;
        var earliest = window.GetProperty("earliest_recoverable_time").GetDateTimeOffset();
        var operation = (await osb.LastOperationAsync(id)).Body.GetRawText();

        async Task Refused(object target, string reason)
        {
            var reply = await Pitr.StartRestoreAsync(osb, id, target);
            reply.Status.ShouldBe(HttpStatusCode.BadRequest, reply.ToString());
            reply.Str("description")!.ShouldContain(reason, Case.Insensitive, reply.ToString());
        }

        await Refused(new { to_restore_point = "never-made" }, "has no restore point 'never-made'");
        await Refused(new { to_time = earliest.AddMinutes(-5).UtcDateTime.ToString("O") }, "before the earliest recoverable time");
        await Refused(new { to_time = (await Pitr.ServerClockAsync(uri)).AddHours(1).UtcDateTime.ToString("O") }, "after the latest recoverable time");
        await Refused(new { to_lsn = "FF/0" }, "after the latest archived LSN");
        await Refused(new { to_time = "yesterday" }, "not an RFC 3339 time");
        await Refused(new { to_time = "2026-11-29T10:00:00" }, "with a zone");
        await Refused(new { to_lsn = "12345" }, "not an LSN");
        await Refused(new { latest = true, to_lsn = "0/1" }, "exactly one target");
        await Refused(new { }, "exactly one target");
        (await osb.PostAsync($"/instances/{id}/restore-points", new { name = "bad name!" })).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await osb.PostAsync($"/instances/{id}/restore-points", new { name = "once" })).Status.ShouldBe(HttpStatusCode.Created);
        var again = await osb.PostAsync($"/instances/{id}/restore-points", new { name = "once" });
        again.Status.ShouldBe(HttpStatusCode.Conflict);
        again.Str("description")!.ShouldContain("already has a restore point 'once'");

        (await osb.LastOperationAsync(id)).Body.GetRawText().ShouldBe(operation, "no operation was started");
        (await Pitr.RowsAsync(uri)).ShouldBe("1");
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    [Fact]
    public async Task Redis_has_no_wal_and_shows_its_latest_backup_as_its_recovery_point()
    {
        var osb = broker.Server.Client;
        var id = "pitr-redis-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Steward.Server.Tests.Infrastructure.Catalogs.Redis, Steward.Server.Tests.Infrastructure.Catalogs.RedisStandalone);
        var backup = await osb.BackupAsync(id);
        var window = (await Pitr.WindowAsync(osb, id)).Body;
        window.GetProperty("point_in_time").GetBoolean().ShouldBeFalse();
        window.GetProperty("recovery_point_backup_id").GetString().ShouldBe(backup.Text("id"));
        window.GetProperty("recovery_point").ValueKind.ShouldBe(JsonValueKind.String);
        (await Pitr.StartRestoreAsync(osb, id, new { latest = true })).Str("description")!.ShouldContain("no write-ahead log");
        await osb.DeprovisionAsync(id, Steward.Server.Tests.Infrastructure.Catalogs.Redis, Steward.Server.Tests.Infrastructure.Catalogs.RedisStandalone);
    }
}

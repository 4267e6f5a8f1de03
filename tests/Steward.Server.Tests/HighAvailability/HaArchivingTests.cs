using System.Net;
using System.Text.Json;
using Npgsql;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Wal;
using Steward.Wal;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>A broker for ha instances that archive their WAL quickly (segments switched every 2 s, lag measured every 0.5 s).</summary>
public sealed class HaWalBroker : IAsyncLifetime
{
    public StewardServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await StewardServer.StartAsync(WalBroker.FastArchiving(new Dictionary<string, string>(HaBrokerFixture.Settings)));

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition("ha-wal")]
public sealed class HaWalCollection : ICollectionFixture<HaWalBroker>;

/// <summary>WAL archiving of ha instances across a failover, and point-in-time restore of what they archived.</summary>
[Collection("ha-wal")]
public sealed class HaArchivingTests(HaWalBroker broker)
{
    private OsbClient Osb => broker.Server.Client;

    [Fact]
    public async Task Archiving_continues_across_a_failover_without_a_gap_even_for_segments_the_dead_primary_never_archived_and_a_clone_at_a_time_after_it_has_every_acknowledged_row()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        var backup = await Osb.BackupAsync(ha.Id);
        var startLsn = backup.GetProperty("manifest").GetProperty("properties").GetProperty("start_lsn").GetString()!;
        var old = await ha.PrimaryAsync();
        var load = await WriteLoad.StartAsync(ha.Uri);
        string[] heldBack;
        await using (load)
        {
            await load.WaitForMoreAsync(30, TimeSpan.FromSeconds(30));

            // The primary's archiver is stopped: the segments it completes from now on are archived by nobody but
            // the standbys (archive_mode = always). It dies with them unarchived.
            var archiver = Processes.Under(old.Directory).Single(pid => Processes.CommandLine(pid).Contains("archiver", StringComparison.Ordinal));
            Processes.Kill(archiver, 19);
            var ready = Path.Combine(old.Directory, "data", "pg_wal", "archive_status");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Directory.EnumerateFiles(ready, "*.ready").Count() < 2)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the primary completes segments while its archiver is stopped");
                await Task.Delay(100);
            }

            heldBack = [.. Directory.EnumerateFiles(ready, "*.ready").Select(f => Path.GetFileNameWithoutExtension(f))];
            Processes.Kill(old.Pid!.Value, 9);
            await ha.WaitAsync("another primary", m => m.Any(x => x.Role == "primary" && x.Name != old.Name));
            await load.WaitForMoreAsync(50, TimeSpan.FromSeconds(60));
        }

        Processes.Under(old.Directory).ShouldBeEmpty("the fenced primary's stopped archiver was killed with it");
        var after = await WaitRecoverableAfterAsync(ha, "INSERT INTO writes (id) VALUES (-1)", 120);

        // Every segment from the base backup's start to the current one: timeline 1 up to the switch point (its last
        // segment as .partial), the new timeline's history, and the new timeline from the switch point on.
        var files = (await Osb.ApiAsync($"/instances/{ha.Id}/wal/files")).Body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
        files.ShouldContain("00000002.history");
        foreach (var segment in heldBack)
        {
            files.ShouldContain(segment, "a segment the dead primary never archived is archived by a standby");
        }

        var primary = await ha.PrimaryAsync();
        var switchPoint = TimelineHistory.Parse(await File.ReadAllTextAsync(Path.Combine(primary.Directory, "data", "pg_wal", "00000002.history"))).Single(h => h.Parent == 1).SwitchPoint;
        var first = Lsn.Parse(startLsn) / WalName.SegmentBytes;
        var switchSegment = switchPoint / WalName.SegmentBytes;
        for (var s = first; s < switchSegment; s++)
        {
            files.ShouldContain(WalName.SegmentName(1, s), $"timeline 1 segment {s:X} (switch point in segment {switchSegment:X})");
        }

        if (switchPoint % WalName.SegmentBytes != 0)
        {
            // Timeline 1 ended inside a segment: the promoted member archives it as .partial (a follower's whole copy
            // may come first); recovery along timeline 2 reads timeline 2's copy of it, checked below.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!files.Contains(WalName.SegmentName(1, switchSegment)) && !files.Contains(WalName.SegmentName(1, switchSegment) + ".partial"))
            {
                waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"the segment timeline 1 ended in ({WalName.SegmentName(1, switchSegment)}) is archived: {string.Join(", ", files)}");
                await Task.Delay(250);
                files = (await Osb.ApiAsync($"/instances/{ha.Id}/wal/files")).Body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
            }
        }
        // Once the primary has nothing pending, every segment before its current one is archived: listed after that
        // measurement, none may be missing (the segment being written is not complete yet, so it is not expected).
        var status = await Pitr.WaitArchivedAsync(Osb, ha.Id);
        var current = status.Body.GetProperty("current_segment").GetString()!;
        files = (await Osb.ApiAsync($"/instances/{ha.Id}/wal/files")).Body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
        for (var s = switchSegment; s < Pitr.SegmentNumber(current); s++)
        {
            files.ShouldContain(WalName.SegmentName(2, s), $"timeline 2 segment {s:X} (current {current})");
        }

        // Nothing waits or failed: no member is behind once archiving caught up, and no incident stays open.
        status.Body.GetProperty("archiving").GetBoolean().ShouldBeTrue(status.ToString());
        status.Body.GetProperty("timeline").GetInt32().ShouldBe(2);
        await WaitNoOpenWalIncidentAsync(ha);

        // A clone at a time after the failover has every acknowledged row.
        var clone = "hac-" + Guid.NewGuid().ToString("N")[..6];
        await Osb.ProvisionReadyAsync(clone, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone, new { clone_from = new { instance_id = ha.Id, to_time = after.UtcDateTime.ToString("O") } });
        var cloneUri = (await Osb.BindReadyAsync(clone, "b-" + clone, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        var restored = await IdsAsync(cloneUri);
        var missing = load.Acknowledged.Where(id => !restored.Contains(id)).ToList();
        missing.ShouldBeEmpty($"{missing.Count} of {load.Acknowledged.Count} acknowledged rows missing from the clone at {after:O}");
        await Osb.DeprovisionGoneAsync(clone, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await ha.DeleteAsync();
    }

    [Fact]
    public async Task A_timeline_that_ended_at_a_segment_end_has_that_segment_archived_by_the_promoted_member_even_when_no_member_received_it_whole()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        await Osb.BackupAsync(ha.Id);
        await Sql.ExecAsync(ha.Uri, "CREATE TABLE writes (id bigint PRIMARY KEY)");
        await Sql.ExecAsync(ha.Uri, "INSERT INTO writes VALUES (1)");
        var old = await ha.PrimaryAsync();
        var standbys = (await ha.MembersAsync()).Where(m => m.Role == "standby").ToList();
        standbys.Count.ShouldBe(2);

        // Nobody archives the segment the primary is about to switch out of: its archiver is stopped, and so are the
        // standbys' walreceivers. The primary switches (archive_timeout, 2 s); the switch record reaches the
        // standbys' sockets, but the 16 MiB of zeros after it do not fit in the sockets' buffers.
        var archiver = Processes.Under(old.Directory).Single(pid => Processes.CommandLine(pid).Contains("archiver", StringComparison.Ordinal));
        var receivers = standbys.Select(m => Processes.Under(m.Directory).Single(pid => Processes.CommandLine(pid).Contains("walreceiver", StringComparison.Ordinal))).ToList();
        Processes.Kill(archiver, 19);
        receivers.ForEach(pid => Processes.Kill(pid, 19));
        var stoppedIn = Lsn.Parse((await Sql.ScalarAsync(ha.Uri, "SELECT pg_current_wal_lsn()::text"))!) / WalName.SegmentBytes;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Lsn.Parse((await Sql.ScalarAsync(ha.Uri, "SELECT pg_current_wal_lsn()::text"))!) / WalName.SegmentBytes <= stoppedIn)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the primary switches segments (archive_timeout)");
            await Task.Delay(50);
        }

        Processes.Kill(old.Pid!.Value, 9);
        receivers.ForEach(pid => Processes.Kill(pid, 18));
        await ha.WaitAsync("another primary", m => m.Any(x => x.Role == "primary" && x.Name != old.Name));
        var primary = await ha.PrimaryAsync();
        var history = await File.ReadAllTextAsync(Path.Combine(primary.Directory, "data", "pg_wal", "00000002.history"));
        var switchPoint = TimelineHistory.Parse(history)[^1].SwitchPoint;
        switchPoint.ShouldBe((stoppedIn + 1) * WalName.SegmentBytes, $"the promoted member replayed the switch record and nothing after it (history: {history.Trim()})");
        var last = WalName.SegmentName(1, stoppedIn);

        // The window reaches past the failover: that segment is archived, by the promoted member. The endpoint
        // leads to the new primary once the failover is through (a connection made before may be cut).
        var routed = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Sql.ExecAsync(ha.Uri, "INSERT INTO writes VALUES (2)");
                break;
            }
            catch (NpgsqlException) when (routed.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }
        }

        await WaitRecoverableAfterAsync(ha, "INSERT INTO writes VALUES (3)", 60);

        var files = (await Osb.ApiAsync($"/instances/{ha.Id}/wal/files")).Body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
        files.ShouldContain(last);
        files.ShouldContain("00000002.history");
        await WaitNoOpenWalIncidentAsync(ha);
        await ha.DeleteAsync();
    }

    [Fact]
    public async Task A_backup_is_taken_from_a_streaming_standby_says_so_and_is_restorable_and_falls_back_to_the_primary_without_one()
    {
        var ha = await HaInstance.CreateAsync(broker.Server);
        await Sql.ExecAsync(ha.Uri, "CREATE TABLE writes (id bigint PRIMARY KEY); INSERT INTO writes SELECT generate_series(1, 1000)");
        var members = await ha.MembersAsync();
        var backup = await Osb.BackupAsync(ha.Id);
        var properties = backup.GetProperty("manifest").GetProperty("properties");
        properties.GetProperty("ha_role").GetString().ShouldBe("standby", properties.GetRawText());
        var from = properties.GetProperty("ha_member").GetString();
        members.Single(m => m.Name == from).Role.ShouldBe("standby");

        // Restorable: a clone of that backup is a primary with every row.
        var clone = "hab-" + Guid.NewGuid().ToString("N")[..6];
        await Osb.ProvisionReadyAsync(clone, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone, new { clone_from = new { instance_id = ha.Id, backup_id = backup.GetProperty("id").GetString() } });
        var cloneUri = (await Osb.BindReadyAsync(clone, "b-" + clone, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        (await IdsAsync(cloneUri)).Count.ShouldBe(1000);
        (await Sql.ScalarAsync(cloneUri, "SELECT pg_is_in_recovery()::text")).ShouldBe("false", "a backup taken from a standby restores as a primary");
        await Osb.DeprovisionGoneAsync(clone, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);

        // No standby: both killed, the backup started before their replacements stream reads the primary.
        foreach (var standby in members.Where(m => m.Role == "standby"))
        {
            Processes.Kill(standby.Pid!.Value, 9);
        }

        var fallback = await Osb.BackupAsync(ha.Id);
        var fallbackProperties = fallback.GetProperty("manifest").GetProperty("properties");
        fallbackProperties.GetProperty("ha_role").GetString().ShouldBe("primary", fallbackProperties.GetRawText());
        fallbackProperties.GetProperty("ha_member").GetString().ShouldBe(members.Single(m => m.Role == "primary").Name);
        fallbackProperties.GetProperty("ha_fallback").GetString()!.ShouldContain("backed up from the primary");
        await ha.WaitAsync("two standbys streaming again", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, 120);
        await ha.DeleteAsync();
    }

    [Fact]
    public async Task A_point_in_time_restore_into_an_ha_instance_interrupted_by_kill_9_finishes_with_every_member_on_the_restored_data()
    {
        await using var server = await StewardServer.StartAsync(WalBroker.FastArchiving(new Dictionary<string, string>(HaBrokerFixture.Settings)));
        var osb = server.Client;
        var ha = await HaInstance.CreateAsync(server);
        await Sql.ExecAsync(ha.Uri, "CREATE TABLE writes (id bigint PRIMARY KEY); CREATE TABLE filler (v int)");
        await osb.BackupAsync(ha.Id);
        await Sql.ExecAsync(ha.Uri, "INSERT INTO filler SELECT generate_series(1, 300000); INSERT INTO writes SELECT generate_series(1, 100)");
        var target = await Pitr.ServerClockAsync(ha.Uri);
        await Pitr.WaitRecoverableAsync(osb, ha.Id, target, 120);
        await Sql.ExecAsync(ha.Uri, "DELETE FROM writes");
        var before = await ha.MembersAsync();

        // Restoring a logical backup into an ha instance is refused precisely and changes nothing.
        var logical = await osb.BackupAsync(ha.Id, "logical");
        var refused = await osb.PostAsync($"/instances/{ha.Id}/restore", new { backup_id = logical.GetProperty("id").GetString() });
        refused.Status.ShouldBe(HttpStatusCode.BadRequest, refused.ToString());
        refused.ToString().ShouldContain("only a physical PostgreSQL backup");

        var started = await Pitr.StartRestoreAsync(osb, ha.Id, new { to_time = target.UtcDateTime.ToString("O") });
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await osb.LastOperationAsync(ha.Id, started.Str("operation"))).Str("description") is not { } d
            || !(d.Contains("stopping the standbys", StringComparison.Ordinal) || d.Contains("putting the restored", StringComparison.Ordinal) || d.Contains("replaying", StringComparison.Ordinal) || d.Contains("rebuilding", StringComparison.Ordinal)))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(120), "the restore reaches the members");
            await Task.Delay(50);
        }

        await server.KillAsync();
        await server.StartProcessAsync();
        var done = await osb.WaitAsync(ha.Id, started.Str("operation"), 300);
        done.Str("state").ShouldBe("succeeded", done + "\n" + server.Log[^Math.Min(server.Log.Length, 4000)..]);

        // The endpoint serves the restored data, on a new timeline, and every member holds it.
        (await IdsAsync(ha.Uri)).Count.ShouldBe(100, "the rows deleted after the target are back");
        var members = await ha.WaitAsync("two standbys streaming the restored primary", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2, 120);
        members.Select(m => m.Name).Order().ShouldBe(before.Select(m => m.Name).Order(), "the members are rebuilt in place, not fenced");
        var primary = members.Single(m => m.Role == "primary");
        primary.Name.ShouldBe(before.Single(m => m.Role == "primary").Name);
        foreach (var member in members)
        {
            var csb = new NpgsqlConnectionStringBuilder(WriteLoad.ToConnectionString(ha.Uri)) { Port = member.Port, Pooling = false };
            await using var conn = new NpgsqlConnection(csb.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT (SELECT count(*) FROM writes), pg_is_in_recovery()", conn);
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            r.GetInt64(0).ShouldBe(100, $"member {member.Name}");
            r.GetBoolean(1).ShouldBe(member.Role == "standby", $"member {member.Name}");
        }

        Directory.Exists(Path.Combine(primary.Directory, "restore-staging")).ShouldBeFalse();
        Directory.Exists(Path.Combine(primary.Directory, "data.pre-restore")).ShouldBeFalse();
        (await Pitr.StatusAsync(osb, ha.Id)).Body.GetProperty("timeline").GetInt32().ShouldBeGreaterThan(1);

        // Commits are synchronous again: one standby acknowledges each, and the archive goes on.
        (await Sql.ScalarAsync(ha.Uri, "SHOW synchronous_standby_names")).ShouldStartWith("ANY 1");
        await Sql.ExecAsync(ha.Uri, "INSERT INTO writes VALUES (101)");
        await ha.DeleteAsync();
    }

    /// <summary>
    /// Takes the server's clock, commits <paramref name="commit"/> after it, and waits until that moment is recoverable
    /// from the archive; on a timeout, fails with what the archive and each member hold and the broker's archiving
    /// problems. Returns the moment.
    /// </summary>
    private async Task<DateTimeOffset> WaitRecoverableAfterAsync(HaInstance ha, string commit, int seconds)
    {
        var after = await Pitr.ServerClockAsync(ha.Uri);
        await Pitr.WaitServerClockAsync(ha.Uri, after + TimeSpan.FromMilliseconds(10));
        await Sql.ExecAsync(ha.Uri, commit);
        try
        {
            await Pitr.WaitRecoverableAsync(Osb, ha.Id, after, seconds);
            return after;
        }
        catch (TimeoutException ex)
        {
            var listed = (await Osb.ApiAsync($"/instances/{ha.Id}/wal/files")).Body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!);
            var problems = broker.Server.Log.Split('\n').Where(l => l.Contains("not archived", StringComparison.Ordinal) || l.Contains("failed", StringComparison.Ordinal)).TakeLast(20);
            throw new TimeoutException($"{ex.Message}\nfiles: {string.Join(", ", listed)}\nstatus: {await Pitr.StatusAsync(Osb, ha.Id)}\nmembers: {string.Join("; ", await ha.MembersAsync())}\n{string.Join("\n", problems)}\n{await WalEvidenceAsync(ha)}", ex);
        }
    }

    internal static async Task<HashSet<long>> IdsAsync(string uri)
    {
        await using var conn = new NpgsqlConnection(WriteLoad.ToConnectionString(uri));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT id FROM writes", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var ids = new HashSet<long>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>
    /// What each member holds of its WAL and its archive status, and the archiver's lines of its server log: where a
    /// segment missing from the archive is, and why it was not archived (for a failure message).
    /// </summary>
    internal static async Task<string> WalEvidenceAsync(HaInstance ha)
    {
        var text = new System.Text.StringBuilder();
        foreach (var member in await ha.MembersAsync())
        {
            var wal = Path.Combine(member.Directory, "data", "pg_wal");
            var status = Path.Combine(wal, "archive_status");
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{member.Name} ({member.Role}) pg_wal: ");
            text.AppendJoin(' ', Names(wal));
            text.Append(" | archive_status: ");
            text.AppendJoin(' ', Names(status));
            var log = Path.Combine(member.Directory, "log", "server.log");
            if (File.Exists(log))
            {
                var lines = (await File.ReadAllLinesAsync(log)).Where(l => l.Contains("archiv", StringComparison.OrdinalIgnoreCase) || l.Contains("promot", StringComparison.OrdinalIgnoreCase) || l.Contains("timeline", StringComparison.OrdinalIgnoreCase)).TakeLast(12);
                text.Append(" | log: ").AppendJoin(" / ", lines);
            }

            text.Append('\n');
        }

        return text.ToString();

        static IEnumerable<string> Names(string directory) =>
            Directory.Exists(directory) ? Directory.EnumerateFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal) : ["(none)"];
    }

    internal static async Task WaitNoOpenWalIncidentAsync(HaInstance ha)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var open = (await ha.IncidentsAsync()).Where(i => i.GetProperty("class").GetString() == "wal-archive-behind" && i.GetProperty("state").GetString() == "open").ToList();
            if (open.Count == 0)
            {
                return;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), $"a wal-archive-behind incident stays open: {open[0].GetRawText()}");
            await Task.Delay(250);
        }
    }
}

using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Rebuild;
using Steward.Server.Tests.Rehearsals;

namespace Steward.Server.Tests.Repair;

/// <summary>
/// steward repair on a live instance with damaged pages and rows written after its last backup: only the damaged
/// pages are replaced, from a copy at the live point, and every row comes back; a dry run and a refusal change nothing.
/// </summary>
[Collection("rehearsal")]
public sealed class RepairTests(RehearsalBroker broker)
{
    [Fact]
    public async Task Damaged_pages_are_replaced_from_a_copy_at_the_live_point_and_every_row_written_after_the_backup_comes_back()
    {
        var server = broker.Server;
        var osb = server.Client;
        var damaged = await Damaged.CreateAsync(server, "repair-" + Guid.NewGuid().ToString("N")[..6], [3, 9, 17]);

        var verify = await osb.PostAsync($"/instances/{damaged.Id}/verify");
        verify.Body.GetProperty("clean").GetBoolean().ShouldBeFalse(verify.ToString());
        var incidentId = verify.Str("incident_id")!;

        // A dry run finds every damaged page (verify names only the first of a relation) and changes nothing.
        var before = Damaged.Sha256(damaged.DataFile);
        var dry = await Damaged.RepairAsync(osb, damaged.Id, dryRun: true);
        dry.Status.ShouldBe(HttpStatusCode.OK, dry.ToString());
        var item = dry.Body.GetProperty("replace").EnumerateArray().Single();
        item.GetProperty("file").GetString().ShouldBe(damaged.File);
        item.GetProperty("blocks").EnumerateArray().Select(b => b.GetInt64()).ShouldBe([3L, 9L, 17L]);
        dry.Body.GetProperty("bytes").GetInt64().ShouldBe(3 * 8192);
        Damaged.Sha256(damaged.DataFile).ShouldBe(before, "a dry run writes nothing");
        (await osb.ApiAsync($"/instances/{damaged.Id}")).Body.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(damaged.Pid, "a dry run does not stop the server");
        Damaged.Sandboxes(server).ShouldBeEmpty();

        var started = await Damaged.RepairAsync(osb, damaged.Id);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        started.Str("incident_id").ShouldBe(incidentId, "the repair is recorded in the incident verify opened");
        var done = await osb.WaitOperationAsync(started.Str("operation")!);
        done.GetProperty("state").GetString().ShouldBe("succeeded", done.GetRawText() + "\n" + server.Log);

        (await Sql.ScalarAsync(damaged.Uri, Damaged.TableDigest)).ShouldBe(damaged.Md5, "every row, including those written after the backup, as it was");
        (await Sql.ScalarAsync(damaged.Uri, "SELECT count(*) FROM accounts")).ShouldBe("9000");
        var after = await osb.PostAsync($"/instances/{damaged.Id}/verify");
        after.Body.GetProperty("clean").GetBoolean().ShouldBeTrue(after.ToString());

        var incident = await osb.IncidentAsync(incidentId);
        incident.GetProperty("state").GetString().ShouldBe("resolved", incident.GetRawText());
        var repair = incident.GetProperty("evidence").GetProperty("repair");
        repair.GetProperty("bytes_copied").GetInt64().ShouldBe(3 * 8192, "the damaged pages, not the cluster");
        repair.GetProperty("replaced").EnumerateArray().Select(r => r.GetProperty("block").GetInt64()).Order().ShouldBe([3L, 9L, 17L]);
        repair.GetProperty("downtime_seconds").GetDouble().ShouldBeLessThan(60);
        repair.GetProperty("data_lost").GetString()!.ShouldStartWith("none");
        repair.GetProperty("checks_before").EnumerateArray().ShouldAllBe(c => c.GetProperty("result").GetString() == "passed");
        repair.GetProperty("checks_after").EnumerateArray().ShouldAllBe(c => c.GetProperty("result").GetString() == "passed");
        var timeline = incident.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        timeline.ShouldContain("damage-found");
        timeline.ShouldContain("live-stopped");
        timeline.ShouldContain("replaced");
        timeline.ShouldContain("repaired");

        // The damaged originals are kept for inspection, byte for byte.
        var kept = repair.GetProperty("originals_kept_in").GetString()!;
        foreach (var (block, page) in damaged.DamagedPages)
        {
            var original = Directory.GetFiles(kept, $"*#{block}.page").Single();
            File.ReadAllBytes(original).ShouldBe(page);
        }

        File.Exists(Path.Combine(kept, "REPAIR.json")).ShouldBeTrue();
        Damaged.Sandboxes(server).ShouldBeEmpty("the copy is removed");
        Damaged.SandboxProcessCount(server).ShouldBe(0, "no process of the copy is left");
    }

    [Fact]
    public async Task A_wal_gap_between_the_backup_and_the_live_point_refuses_the_repair_and_changes_nothing()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "repair-gap-" + Guid.NewGuid().ToString("N")[..6];
        var archive = Path.Combine(server.DataDir, "backups", "archive", id);
        string[] Segments() => Directory.Exists(archive) ? [.. Directory.GetFiles(archive).Select(Path.GetFileName).OfType<string>().Where(n => n.Length == 24).Order()] : [];
        var lost = string.Empty;
        var damaged = await Damaged.CreateAsync(server, id, [5], async uri =>
        {
            // More than a segment of WAL after the backup, archived; the first segment archived after it is then lost.
            var before = Segments();
            await Sql.ExecAsync(uri, "CREATE TABLE filler AS SELECT g, repeat('f', 200) AS pad FROM generate_series(1, 120000) g");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Segments().Except(before).Count() < 2)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "segments were not archived");
                await Task.Delay(100);
            }

            lost = Segments().Except(before).Order().First();
        });
        File.Delete(Path.Combine(archive, lost));
        var before = Damaged.Sha256(damaged.DataFile);
        (await osb.PostAsync($"/instances/{id}/verify")).Body.GetProperty("clean").GetBoolean().ShouldBeFalse();

        var refused = await Damaged.RepairAsync(osb, id);
        refused.Status.ShouldBe(HttpStatusCode.BadRequest, refused.ToString());
        refused.ToString().ShouldContain(lost);
        refused.ToString().ShouldContain("nothing was changed");
        (await Damaged.RepairAsync(osb, id, dryRun: true)).Status.ShouldBe(HttpStatusCode.BadRequest, "a dry run says the same");

        Damaged.Sha256(damaged.DataFile).ShouldBe(before);
        (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(damaged.Pid);
        Damaged.Sandboxes(server).ShouldBeEmpty();

        var redis = "repair-redis-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(redis, Catalogs.Redis, Catalogs.RedisStandalone);
        var notPg = await Damaged.RepairAsync(osb, redis);
        notPg.Status.ShouldBe(HttpStatusCode.BadRequest);
        notPg.ToString().ShouldContain($"steward rebuild {redis}");
    }
}

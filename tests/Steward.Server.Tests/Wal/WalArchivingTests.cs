using System.Net;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Wal;

/// <summary>Continuous WAL archiving on a real server: every segment stored through the pipeline, nothing else exposed.</summary>
[Collection("wal")]
public sealed class WalArchivingTests(WalBroker broker)
{
    [Fact]
    public async Task Every_completed_segment_is_stored_encrypted_with_its_checksum_and_the_secret_is_never_shown()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "wal-arch-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 200000)");
        var status = await Pitr.WaitArchivedAsync(osb, id);
        status.Body.GetProperty("archiving").GetBoolean().ShouldBeTrue(status.ToString());

        var segments = await Pitr.SegmentsAsync(osb, id);
        segments.Count.ShouldBeGreaterThanOrEqualTo(2, "200,000 rows fill more than one 16 MiB segment");
        Pitr.ShouldHaveNoGap(segments);
        var files = (await osb.ApiAsync($"/instances/{id}/wal/files")).Body.GetProperty("files").EnumerateArray().ToList();
        foreach (var file in files.Where(f => f.GetProperty("kind").GetString() == "segment"))
        {
            file.GetProperty("key").GetString().ShouldBe($"archive/{id}/{file.GetProperty("name").GetString()}", "WAL lives under its own prefix, apart from the instance's backups");
            var stored = Path.Combine(server.DataDir, "backups", file.GetProperty("key").GetString()!);
            File.Exists(stored).ShouldBeTrue(stored);
            File.Exists(stored + ".manifest.json").ShouldBeTrue("each segment has its manifest");
            file.GetProperty("plaintext_bytes").GetInt64().ShouldBe(16L * 1024 * 1024);
            var head = new byte[21];
            await using (var s = File.OpenRead(stored))
            {
                await s.ReadExactlyAsync(head);
            }

            System.Text.Encoding.ASCII.GetString(head).ShouldStartWith("age-encryption.org/v1", customMessage: "segments are encrypted like backups");
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(stored))).ShouldBe(file.GetProperty("stored_sha256").GetString());
        }

        var backupPrefix = Path.Combine(server.DataDir, "backups", id);
        (Directory.Exists(backupPrefix) ? Directory.GetFiles(backupPrefix, "*", SearchOption.AllDirectories) : []).ShouldAllBe(
            f => !f.Contains(segments[0], StringComparison.Ordinal), "nothing of the WAL is under the instance's backup prefix");

        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        var secret = (await File.ReadAllTextAsync(Path.Combine(directory, "config", "wal.header"))).Split(':')[1].Trim();
        secret.Length.ShouldBeGreaterThanOrEqualTo(32);
        (await File.ReadAllTextAsync(Path.Combine(directory, "log", "server.log"))).ShouldNotContain(secret);
        server.Log.ShouldNotContain(secret);
        Processes.CommandLinesUnder(server.Root).ShouldAllBe(c => !c.Contains(secret));
        (await File.ReadAllTextAsync(Path.Combine(directory, "config", "postgresql.conf"))).ShouldNotContain(secret);

        // Without the instance's secret the archive neither accepts nor serves anything.
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/wal/{id}/000000010000000000000099") { Content = new ByteArrayContent(new byte[16]) };
        put.Headers.Add("X-Steward-Wal-Token", "wrong");
        (await server.Http.SendAsync(put)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await server.Http.GetAsync($"/wal/{id}/{segments[0]}")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }
}

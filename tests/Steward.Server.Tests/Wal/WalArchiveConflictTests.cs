using System.Net;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Wal;

namespace Steward.Server.Tests.Wal;

/// <summary>
/// Two copies of one WAL segment offered to the archive: the same WAL is acknowledged, different WAL refused.
/// Copies of the segment a timeline ended in may differ after its last record (a standby that did not receive all
/// of the zeros after a switch record keeps its recycled file's old bytes there), and only there.
/// </summary>
[Collection("wal")]
public sealed class WalArchiveConflictTests(WalBroker broker)
{
    private const int SegmentBytes = 16 * 1024 * 1024;

    [Fact]
    public async Task Copies_of_the_segment_a_timeline_ended_in_are_the_same_wal_when_they_differ_only_after_its_last_record_and_refused_otherwise()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "wal-conflict-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 1000)");
        await Pitr.WaitArchivedAsync(osb, id);
        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        var secret = (await File.ReadAllTextAsync(Path.Combine(directory, "config", "wal.header"))).Split(':')[1].Trim();

        // A segment PostgreSQL completed by a switch (archive_timeout): its WAL, then zeros to its end.
        byte[]? clean = null;
        string? archivedName = null;
        foreach (var name in await Pitr.SegmentsAsync(osb, id))
        {
            var bytes = await FetchAsync(server, id, name, secret);
            if (ZeroTailStart(bytes) is > 0 and < SegmentBytes - 65536)
            {
                (clean, archivedName) = (bytes, name);
                break;
            }
        }

        clean.ShouldNotBeNull("an archived segment ended by a switch");
        var walEnd = ZeroTailStart(clean);

        // The copy a standby keeps when its primary died while the zeros were in flight: the WAL, a few of the zeros,
        // then a recycled file's old bytes.
        var recycled = (byte[])clean.Clone();
        Random.Shared.NextBytes(recycled.AsSpan(walEnd + 8192));

        // Another server's WAL: one byte differs before the end of the WAL.
        var other = (byte[])clean.Clone();
        other[walEnd - 40] ^= 0xFF;

        // While no history says that timeline ended at this segment's end, a different tail is a conflict.
        (await PushAsync(server, id, archivedName!, recycled, secret)).ShouldBe(HttpStatusCode.Conflict);
        (await PushAsync(server, id, archivedName!, clean, secret)).ShouldBe(HttpStatusCode.OK, "the identical copy");

        // Timeline 3's history: timeline 1 ended at the end of segment F, timeline 2 at the end of segment G.
        var f = Pitr.SegmentNumber(archivedName!) + 0x40;
        var g = f + 0x10;
        var history = $"1\t{Lsn.Format((f + 1) * SegmentBytes)}\tno recovery target specified\n\n2\t{Lsn.Format((g + 1) * SegmentBytes)}\tno recovery target specified\n";
        (await PushAsync(server, id, "00000003.history", System.Text.Encoding.ASCII.GetBytes(history), secret)).ShouldBe(HttpStatusCode.OK);

        // The complete copy archived first (the old primary's, or a standby that received all of it), then the
        // promoted member's with its recycled tail: acknowledged. A copy that differs inside the WAL: refused.
        var nameF = WalName.SegmentName(1, f);
        (await PushAsync(server, id, nameF, clean, secret)).ShouldBe(HttpStatusCode.OK);
        (await PushAsync(server, id, nameF, recycled, secret)).ShouldBe(HttpStatusCode.OK, "the same WAL up to its last record");
        (await PushAsync(server, id, nameF, other, secret)).ShouldBe(HttpStatusCode.Conflict, "different WAL");

        // The other order: the recycled tail archived first, the complete copy offered after it.
        var nameG = WalName.SegmentName(2, g);
        (await PushAsync(server, id, nameG, recycled, secret)).ShouldBe(HttpStatusCode.OK);
        (await PushAsync(server, id, nameG, clean, secret)).ShouldBe(HttpStatusCode.OK, "the same WAL up to its last record");
        (await PushAsync(server, id, nameG, other, secret)).ShouldBe(HttpStatusCode.Conflict, "different WAL");

        // The first copy stays what is served.
        (await FetchAsync(server, id, nameF, secret)).ShouldBe(clean);
        (await FetchAsync(server, id, nameG, secret)).ShouldBe(recycled);

        // A segment the timeline did not end in keeps the strict rule.
        (await PushAsync(server, id, WalName.SegmentName(1, f - 1), clean, secret)).ShouldBe(HttpStatusCode.OK);
        (await PushAsync(server, id, WalName.SegmentName(1, f - 1), recycled, secret)).ShouldBe(HttpStatusCode.Conflict);
        server.Log.ShouldContain($"WAL file {nameF} of instance {id} offered again with another tail after its timeline's last record");
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    private static int ZeroTailStart(byte[] bytes) => bytes.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;

    private static async Task<HttpStatusCode> PushAsync(StewardServer server, string id, string name, byte[] body, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/wal/{id}/{name}") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Steward-Wal-Token", secret);
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<byte[]> FetchAsync(StewardServer server, string id, string name, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/wal/{id}/{name}");
        request.Headers.Add("X-Steward-Wal-Token", secret);
        using var response = await server.Http.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, name);
        return await response.Content.ReadAsByteArrayAsync();
    }
}

using System.Diagnostics;
using System.Net;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Rehearsals;

namespace Steward.Server.Tests.Wal;

/// <summary>
/// The on-disk read-ahead of restore_command, driven the way a recovering server drives it (GET /wal/{instance}/{file}
/// with the instance's secret, in segment order): later segments are spooled to files, at most the read-ahead, served
/// from there, and a spooled copy that no longer matches the archived digest is not served.
/// </summary>
[Collection("wal")]
public sealed class WalSpoolTests(WalBroker broker)
{
    private const int Prefetch = 8; // STEWARD_WAL_RESTORE_PREFETCH's default
    private const long SegmentBytes = 16L << 20;

    [Fact]
    public async Task Segments_fetched_ahead_are_spooled_on_disk_up_to_the_read_ahead_and_served_from_there_unless_damaged()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "wal-spool-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        // Uncompressed 8 kB values: about 64 MB of WAL per round, until enough segments are archived.
        await Sql.ExecAsync(uri, "CREATE TABLE w (b text); ALTER TABLE w ALTER b SET STORAGE EXTERNAL");
        do
        {
            await Sql.ExecAsync(uri, "INSERT INTO w SELECT repeat('x', 8000) FROM generate_series(1, 8000)");
            await Pitr.WaitArchivedAsync(osb, id);
        }
        while ((await Pitr.SegmentsAsync(osb, id)).Count <= Prefetch + 2);
        var listed = (await osb.ApiAsync($"/instances/{id}/wal/files")).Body.GetProperty("files").EnumerateArray()
            .Where(f => f.GetProperty("kind").GetString() == "segment")
            .ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("plaintext_digest").GetString()!);
        var segments = listed.Keys.Order(StringComparer.Ordinal).ToList();
        Pitr.ShouldHaveNoGap(segments);
        segments.Count.ShouldBeGreaterThan(Prefetch + 2);
        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        var secret = (await File.ReadAllTextAsync(Path.Combine(directory, "config", "wal.header"))).Split(':')[1].Trim();
        var spool = Path.Combine(server.DataDir, "wal-spool", id);

        // The first request is read from storage; it starts the read-ahead of exactly the next eight, into files.
        (await FetchAsync(server, id, segments[0], secret)).ShouldBe(listed[segments[0]]);
        var ahead = segments.Skip(1).Take(Prefetch).ToList();
        await WaitAsync(() => Spooled(spool).Where(f => new FileInfo(f).Length == SegmentBytes).Select(Segment).Order(StringComparer.Ordinal).SequenceEqual(ahead), $"{string.Join(", ", ahead)} spooled");
        Spooled(spool).Select(Segment).ShouldNotContain(segments[Prefetch + 1], "the read-ahead is bounded");
        File.GetUnixFileMode(spool).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, "spooled WAL is the broker's alone");
        File.GetUnixFileMode(Spooled(spool)[0]).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // The next one comes from the spool, and its file is gone once served.
        (await FetchAsync(server, id, segments[1], secret)).ShouldBe(listed[segments[1]]);
        Spooled(spool).Select(Segment).ShouldNotContain(segments[1]);

        // A spooled copy damaged on disk is not served: the file is read from storage again, intact.
        var damaged = Spooled(spool).Single(f => Segment(f) == segments[2]);
        await using (var file = new FileStream(damaged, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = SegmentBytes / 2;
            var b = (byte)file.ReadByte();
            file.Position = SegmentBytes / 2;
            file.WriteByte((byte)(b ^ 0xFF));
        }

        (await FetchAsync(server, id, segments[2], secret)).ShouldBe(listed[segments[2]], "the archived content, not the damaged copy");
        server.Log.ShouldContain($"The spooled copy of WAL file {segments[2]} for instance {id} is damaged");

        var metrics = await Rehearse.ScrapeAsync(server);
        metrics.Value("steward_wal_restore_files_total", ("instance_id", id), ("source", "spool")).ShouldBe(1);
        metrics.Value("steward_wal_restore_files_total", ("instance_id", id), ("source", "storage")).ShouldBe(2);
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    /// <summary>The spool files of an instance (a read-ahead still being written included).</summary>
    internal static string[] Spooled(string spool) => Directory.Exists(spool) ? Directory.GetFiles(spool) : [];

    private static string Segment(string path) => Path.GetFileName(path).Split('.')[0];

    private static async Task<string> FetchAsync(StewardServer server, string id, string name, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/wal/{id}/{name}");
        request.Headers.Add("X-Steward-Wal-Token", secret);
        using var response = await server.Http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 400))));
        body.Length.ShouldBe((int)SegmentBytes);
        var digest = new byte[32];
        Blake3.Hasher.Hash(body, digest);
        return "blake3:" + Convert.ToHexStringLower(digest);
    }

    private static async Task WaitAsync(Func<bool> condition, string what, int seconds = 90)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(seconds), $"no {what} within {seconds} s");
            await Task.Delay(25);
        }
    }
}

using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Backups;

namespace Steward.Server.Tests.Wal;

/// <summary>
/// A restore of a physical backup while the instance archives WAL, and files archived twice: the restored server
/// continues on a new timeline and keeps archiving; the same file again is accepted, a different one refused.
/// </summary>
[Collection("wal")]
public sealed class ArchivedRestoreTests(WalBroker broker)
{
    [Fact]
    public async Task A_physical_backup_restored_while_archiving_continues_on_a_new_timeline_and_keeps_archiving()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "wal-plain-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 1000)");
        var backup = (await osb.BackupAsync(id, "physical")).Text("id");
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1001, 150000)");
        await Pitr.WaitArchivedAsync(osb, id);

        var restore = await osb.RestoreAsync(id, backup);
        restore.Str("state").ShouldBe("succeeded", restore.ToString());
        restore.Str("description")!.ShouldContain($"restored to the end of backup {backup}");
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM t")).ShouldBe("1000", "exactly the backup's rows");
        Directory.Exists(Path.Combine(server.DataDir, "wal-spool", id)).ShouldBeFalse("the WAL fetched ahead past the end of the backup is removed when the restore ends");

        // The same amount written again: on the backup's own timeline these segment names are archived already.
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1001, 150000)");
        var last = await Pitr.InsertAsync(uri, 150001);
        await Pitr.WaitRecoverableAsync(osb, id, last);
        var status = (await Pitr.WaitArchivedAsync(osb, id)).Body;
        status.GetProperty("last_archived_segment").GetString()!.ShouldStartWith("00000002", customMessage: "the restored server writes timeline 2");
        (status.GetProperty("failures").TryGetProperty("last_error", out var error) ? error.ValueKind : JsonValueKind.Null).ShouldBe(JsonValueKind.Null, status.GetRawText());
        var incidents = (await osb.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray();
        incidents.ShouldNotContain(i => i.GetProperty("class").GetString() == "wal-archive-behind", string.Join("\n", incidents.Select(i => i.GetRawText())));
        Pitr.ShouldHaveNoGap(await Pitr.SegmentsAsync(osb, id));
        (await Pitr.WindowAsync(osb, id)).Body.GetProperty("timeline").GetInt32().ShouldBe(2);
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    [Fact]
    public async Task A_file_archived_again_is_accepted_when_identical_and_refused_precisely_when_different()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "wal-again-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 100000)");
        await Pitr.WaitArchivedAsync(osb, id);
        var name = (await Pitr.SegmentsAsync(osb, id))[0];
        var directory = (await osb.ApiAsync($"/instances/{id}")).Body.Text("directory");
        var secret = (await File.ReadAllTextAsync(Path.Combine(directory, "config", "wal.header"))).Split(':')[1].Trim();

        var original = await SendAsync(server, HttpMethod.Get, id, name, secret, null);
        original.StatusCode.ShouldBe(HttpStatusCode.OK);
        var bytes = await original.Content.ReadAsByteArrayAsync();

        (await SendAsync(server, HttpMethod.Put, id, name, secret, bytes)).StatusCode.ShouldBe(HttpStatusCode.OK, "the same content again is success");

        var changed = (byte[])bytes.Clone();
        changed[changed.Length / 2] ^= 0xFF;
        var refused = await SendAsync(server, HttpMethod.Put, id, name, secret, changed);
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var reason = await refused.Content.ReadAsStringAsync();
        reason.ShouldContain($"{name} is already archived for instance {id} with different content");
        reason.ShouldContain($"another server is writing timeline 1 of this instance");

        var kept = await SendAsync(server, HttpMethod.Get, id, name, secret, null);
        (await kept.Content.ReadAsByteArrayAsync()).ShouldBe(bytes, "the archived file is unchanged");
        var listed = (await osb.ApiAsync($"/instances/{id}/wal/files")).Body.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("name").GetString() == name);
        var blake3 = new byte[32];
        Blake3.Hasher.Hash(bytes, blake3);
        listed.GetProperty("plaintext_digest").GetString().ShouldBe("blake3:" + Convert.ToHexStringLower(blake3));
        await osb.DeprovisionAsync(id, Pitr.Pg, Pitr.Plan);
    }

    private static async Task<HttpResponseMessage> SendAsync(Infrastructure.StewardServer server, HttpMethod method, string id, string name, string secret, byte[]? body)
    {
        using var request = new HttpRequestMessage(method, $"/wal/{id}/{name}");
        request.Headers.Add("X-Steward-Wal-Token", secret);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
        }

        return await server.Http.SendAsync(request);
    }
}

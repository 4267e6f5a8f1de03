using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

/// <summary>A copy of the state database alone reveals no credential; the broker still hands them out.</summary>
public sealed class CredentialsAtRestTests
{
    private const string S = Catalogs.Redis;
    private const string P = Catalogs.RedisStandalone;

    [Fact]
    public async Task Steward_db_holds_no_binding_password_or_token_and_fetch_binding_still_returns_them()
    {
        await using var server = await StewardServer.StartAsync();
        var id = "rd-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.ProvisionReadyAsync(id, S, P);
        var bound = await server.Client.BindReadyAsync(id, "app-" + id, S, P);
        var password = bound.GetProperty("password").GetString()!;
        var token = bound.GetProperty("steward_api").GetProperty("token").GetString()!;

        // The database and its write-ahead log, byte for byte, as a backup of the data directory would copy them.
        var db = Path.Combine(server.DataDir, "steward.db");
        var copy = new List<byte>();
        foreach (var file in new[] { db, db + "-wal", db + "-shm" }.Where(File.Exists))
        {
            copy.AddRange(await ReadSharedAsync(file));
        }

        copy.Count.ShouldBeGreaterThan(0);
        var bytes = copy.ToArray();
        bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(password)).ShouldBe(-1, "the binding password is in steward.db");
        bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(token)).ShouldBe(-1, "the API token is in steward.db");
        bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(id)).ShouldBeGreaterThanOrEqualTo(0, "the copy holds the instance (so the search was over the right data)");

        var key = Path.Combine(server.DataDir, "credentials.key");
        File.GetUnixFileMode(key).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.Combine(server.DataDir, "backup-identity.txt")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // After a crash and a restart, the broker opens what it sealed and hands out the same credentials.
        await server.KillAsync();
        await server.StartProcessAsync();
        var fetched = await server.Client.GetBindingAsync(id, "app-" + id);
        fetched.Status.ShouldBe(HttpStatusCode.OK, fetched.ToString());
        var credentials = fetched.Body.GetProperty("credentials");
        credentials.GetProperty("password").GetString().ShouldBe(password);
        credentials.GetProperty("steward_api").GetProperty("token").GetString().ShouldBe(token);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/instances/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var reply = await server.Http.SendAsync(request);
        reply.StatusCode.ShouldBe(HttpStatusCode.OK, "the token whose hash is stored still opens the instance's API");
    }

    private static async Task<byte[]> ReadSharedAsync(string file)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}

using System.Net;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>
/// An id the broker accepts at provisioning works as the first segment of the backup's storage key; an id
/// that would not (a leading dot, "..") is refused at provisioning, before anything exists.
/// </summary>
[Collection("backups")]
public sealed class BackupIdTests(BackupBrokers brokers)
{
    [Fact]
    public async Task An_instance_id_with_every_allowed_character_at_the_longest_length_is_backed_up()
    {
        var osb = brokers.FileSystem.Client;
        var id = ("Z9.a-b_c." + Guid.NewGuid().ToString("N")).PadRight(128, 'x');
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);

        var backup = await osb.BackupAsync(id);
        backup.Text("key").ShouldStartWith(id + "/");
        (await osb.ApiAsync($"/instances/{id}/backups")).Body.GetProperty("backups").EnumerateArray().Select(b => b.Text("id")).ShouldBe([backup.Text("id")]);
        (await osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone)).Status.ShouldBe(HttpStatusCode.Accepted);
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("-rf")]
    [InlineData("a..b")]
    public async Task An_id_that_would_break_a_storage_key_or_a_command_line_is_refused_at_provisioning_and_by_the_API(string id)
    {
        var osb = brokers.FileSystem.Client;
        var provision = await osb.ProvisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        provision.Status.ShouldBe(HttpStatusCode.BadRequest, provision.ToString());
        provision.Str("description")!.ShouldContain("instance_id");
        (await osb.PostAsync($"/instances/{id}/backups")).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await osb.ApiAsync($"/backups/{id}")).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await osb.ApiAsync($"/incidents/{id}")).Status.ShouldBe(HttpStatusCode.BadRequest);
        (await osb.ApiAsync($"/incidents?instance={id}")).Status.ShouldBe(HttpStatusCode.BadRequest);
    }
}

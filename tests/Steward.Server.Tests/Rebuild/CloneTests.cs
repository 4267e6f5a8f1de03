using System.Net;
using Npgsql;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.CommandLine;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;
using Steward.Server.Tests.Wal;

namespace Steward.Server.Tests.Rebuild;

/// <summary>
/// Clone: a new instance from another instance's backup, with its own port, directory and credentials, none of the
/// source's; only within the source's organization and space or with the source's token; the source untouched.
/// </summary>
[Collection("rebuild")]
public sealed class CloneTests(RebuildBroker broker)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    private OsbClient Osb => broker.Client;

    [Fact]
    public async Task A_PostgreSQL_clone_has_the_backups_rows_its_own_credentials_and_leaves_the_source_serving()
    {
        var source = "cl-src-" + Guid.NewGuid().ToString("N")[..6];
        var clone = "cl-dst-" + Guid.NewGuid().ToString("N")[..6];
        await Osb.ProvisionReadyAsync(source, Pg, PgPlan);
        var sourceUri = (await Osb.BindReadyAsync(source, "app-" + source, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(sourceUri, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 5000) g");
        var backup = (await Osb.BackupAsync(source)).Text("id");
        await Sql.ExecAsync(sourceUri, "INSERT INTO orders SELECT g, 'late' FROM generate_series(5001, 6000) g");
        var sourcePid = (await Osb.ApiAsync($"/instances/{source}")).Body.GetProperty("process").GetProperty("pid").GetInt32();

        // A session on the source stays open through the whole clone.
        await using var session = await PostgreSqlLifecycleTests.OpenAsync(sourceUri);
        var started = await Osb.ProvisionAsync(clone, Pg, PgPlan, new { clone_from = new { instance_id = source, backup_id = backup } });
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var done = await Osb.WaitAsync(clone, started.Str("operation"), 180);
        done.Str("state").ShouldBe("succeeded", done.ToString());
        done.Str("description")!.ShouldContain($"clone of {source} from backup {backup}");

        var cloneUri = (await Osb.BindReadyAsync(clone, "app-" + clone, Pg, PgPlan)).GetProperty("uri").GetString()!;
        (await Sql.ScalarAsync(cloneUri, "SELECT count(*) FROM orders")).ShouldBe("5000", "the clone holds the backup's rows");
        await Sql.ExecAsync(cloneUri, "DELETE FROM orders");

        // The source's binding does not open the clone, even pointed at its port.
        var clonePort = (await Osb.ApiAsync($"/instances/{clone}")).Body.GetProperty("port").GetInt32();
        var sourcePort = (await Osb.ApiAsync($"/instances/{source}")).Body.GetProperty("port").GetInt32();
        clonePort.ShouldNotBe(sourcePort);
        var parsed = new Uri(sourceUri);
        var userInfo = parsed.UserInfo.Split(':', 2);
        var sourceAtClone = new NpgsqlConnectionStringBuilder
        {
            Host = parsed.Host, Port = clonePort, Database = parsed.AbsolutePath.Trim('/'), Pooling = false,
            Username = Uri.UnescapeDataString(userInfo[0]), Password = Uri.UnescapeDataString(userInfo[1]),
        }.ConnectionString;
        await Should.ThrowAsync<PostgresException>(async () =>
        {
            await using var c = new NpgsqlConnection(sourceAtClone);
            await c.OpenAsync();
        });

        // The source: same server, same session, all its rows.
        await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM orders", session))
        {
            (await cmd.ExecuteScalarAsync())!.ToString().ShouldBe("6000");
        }

        (await Osb.ApiAsync($"/instances/{source}")).Body.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(sourcePid);
        (await Osb.ApiAsync($"/instances/{clone}")).Body.GetProperty("parameters").GetRawText().ShouldNotContain("clone_from");
        await Osb.DeprovisionGoneAsync(clone, Pg, PgPlan);
        await Osb.DeprovisionGoneAsync(source, Pg, PgPlan);
    }

    [Fact]
    public async Task A_clone_across_organizations_is_refused_and_creates_nothing_unless_the_request_carries_the_sources_token()
    {
        var source = "cl-org-" + Guid.NewGuid().ToString("N")[..6];
        var clone = "cl-other-" + Guid.NewGuid().ToString("N")[..6];
        await Osb.ProvisionReadyAsync(source, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await Osb.BindReadyAsync(source, "b-" + source, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            await conn.ExecuteAsync(["SET", "greeting", "hello"], default);
        }

        await Osb.BackupAsync(source);
        var directories = broker.Server.InstanceDirectories().Count;

        async Task<Reply> ProvisionInOtherOrgAsync(object cloneFrom) => await Osb.SendAsync(
            HttpMethod.Put,
            $"/v2/service_instances/{clone}?accepts_incomplete=true",
            new { service_id = Catalogs.Redis, plan_id = Catalogs.RedisStandalone, organization_guid = "another-org", space_guid = "space-1", parameters = new { clone_from = cloneFrom } });

        var refused = await ProvisionInOtherOrgAsync(new { instance_id = source });
        refused.Status.ShouldBe(HttpStatusCode.NotFound, refused.ToString());
        refused.Str("description")!.ShouldContain("in another organization or space");
        var wrongToken = await ProvisionInOtherOrgAsync(new { instance_id = source, token = "not-a-token" });
        wrongToken.Status.ShouldBe(HttpStatusCode.NotFound, wrongToken.ToString());
        wrongToken.Str("description")!.ShouldNotContain("not-a-token");
        (await Osb.ApiAsync($"/instances/{clone}")).Status.ShouldBe(HttpStatusCode.NotFound);
        broker.Server.InstanceDirectories().Count.ShouldBe(directories, "nothing was created");
        (await ProvisionInOtherOrgAsync(new { instance_id = source, colour = "red" })).Str("description")!.ShouldContain("unknown field 'colour'");

        // The developer who holds the source's token may take its data elsewhere.
        var token = credentials.GetProperty("steward_api").GetProperty("token").GetString()!;
        var allowed = await ProvisionInOtherOrgAsync(new { instance_id = source, token });
        allowed.Status.ShouldBe(HttpStatusCode.Accepted, allowed.ToString());
        (await Osb.WaitAsync(clone, allowed.Str("operation"), 120)).Str("state").ShouldBe("succeeded");
        var cloned = await Osb.BindReadyAsync(clone, "b-" + clone, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(cloned))
        {
            (await conn.ExecuteAsync(["GET", "greeting"], default)).AsText().ShouldBe("hello");
        }

        broker.Server.Log.ShouldNotContain(token);
        var stored = (await Osb.ApiAsync($"/instances/{clone}")).Text;
        stored.ShouldNotContain(token, Case.Sensitive, "the token is never stored with the instance");
        await Osb.DeprovisionGoneAsync(clone, Catalogs.Redis, Catalogs.RedisStandalone);
        await Osb.DeprovisionGoneAsync(source, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_PostgreSQL_clone_at_a_point_in_time_replays_the_sources_archive_and_then_archives_on_a_timeline_of_its_own()
    {
        var source = "cl-pit-" + Guid.NewGuid().ToString("N")[..6];
        var clone = "cl-pit2-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(Osb, source);
        await Osb.BackupAsync(source);
        var c1 = await Pitr.InsertAsync(uri, 1);
        await Pitr.WaitServerClockAsync(uri, c1 + TimeSpan.FromMilliseconds(1200));
        var c2 = await Pitr.InsertAsync(uri, 2);
        await Pitr.WaitRecoverableAsync(Osb, source, c2);
        var sourcePid = (await Osb.ApiAsync($"/instances/{source}")).Body.GetProperty("process").GetProperty("pid").GetInt32();

        // A target the source's archive cannot reach creates nothing.
        var early = await Osb.ProvisionAsync(clone, Pg, PgPlan, new { clone_from = new { instance_id = source, to_time = "2000-01-01T00:00:00Z" } });
        early.Status.ShouldBe(HttpStatusCode.BadRequest, early.ToString());
        early.Str("description")!.ShouldContain("is before the earliest recoverable time");
        var both = await Osb.ProvisionAsync(clone, Pg, PgPlan, new { clone_from = new { instance_id = source, backup_id = "bk-x", latest = true } });
        both.Status.ShouldBe(HttpStatusCode.BadRequest, both.ToString());
        both.Str("description")!.ShouldContain("at most one of backup_id, to_time");
        (await Osb.ApiAsync($"/instances/{clone}")).Status.ShouldBe(HttpStatusCode.NotFound);

        var between = c1 + ((c2 - c1) / 2);
        var result = await Cli.RunAsync(
            new Dictionary<string, string?> { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = broker.Server.Username, ["STEWARD_PASSWORD"] = broker.Server.Password, ["STEWARD_ORGANIZATION"] = "org-1", ["STEWARD_SPACE"] = "space-1" },
            null,
            "create", "postgresql", "standalone", "--id", clone, "--clone-from", source, "--to-time", between.UtcDateTime.ToString("O"));
        result.ExitCode.ShouldBe(0, result.ToString());
        var cloneUri = (await Osb.BindReadyAsync(clone, "app-" + clone, Pg, PgPlan)).GetProperty("uri").GetString()!;
        (await Pitr.RowsAsync(cloneUri)).ShouldBe("1", "the source as it was between the two commits");
        (await Pitr.RowsAsync(uri)).ShouldBe("1,2", "the source keeps everything");
        (await Osb.ApiAsync($"/instances/{source}")).Body.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(sourcePid);

        // The clone archives into its own archive on a new timeline (recoverable from its own first backup on); the
        // source's archive holds nothing of it.
        await Osb.BackupAsync(clone);
        var written = await Pitr.InsertAsync(cloneUri, 3);
        await Pitr.WaitRecoverableAsync(Osb, clone, written);
        var cloneWal = (await Pitr.StatusAsync(Osb, clone)).Body;
        cloneWal.GetProperty("timeline").GetInt32().ShouldBe(2, cloneWal.GetRawText());
        cloneWal.GetRawText().ShouldNotContain("\"last_failed_segment\":\"", Case.Sensitive, "archiving of the clone failed");
        var sourceFiles = (await Osb.ApiAsync($"/instances/{source}/wal/files")).Body.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
        sourceFiles.ShouldAllBe(name => name.StartsWith("00000001", StringComparison.Ordinal), "only the source writes into its archive");
        await Osb.DeprovisionGoneAsync(clone, Pg, PgPlan);
        await Osb.DeprovisionGoneAsync(source, Pg, PgPlan);
    }

    [Fact]
    public async Task The_CLI_clones_the_latest_backup_with_create_clone_from()
    {
        var source = "cl-cli-" + Guid.NewGuid().ToString("N")[..6];
        var clone = "cl-cli2-" + Guid.NewGuid().ToString("N")[..6];
        await Osb.ProvisionReadyAsync(source, Catalogs.Redis, Catalogs.RedisStandalone);
        var credentials = await Osb.BindReadyAsync(source, "b-" + source, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            await conn.ExecuteAsync(["SET", "k", "first"], default);
        }

        await Osb.BackupAsync(source);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(credentials))
        {
            await conn.ExecuteAsync(["SET", "k", "second"], default);
        }

        await Osb.BackupAsync(source);
        var result = await Cli.RunAsync(
            new Dictionary<string, string?> { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = broker.Server.Username, ["STEWARD_PASSWORD"] = broker.Server.Password, ["STEWARD_ORGANIZATION"] = "org-1", ["STEWARD_SPACE"] = "space-1" },
            null,
            "create", "redis", "standalone", "--id", clone, "--clone-from", source);
        result.ExitCode.ShouldBe(0, result.ToString());
        var cloned = await Osb.BindReadyAsync(clone, "b-" + clone, Catalogs.Redis, Catalogs.RedisStandalone);
        await using (var conn = await RedisLifecycleTests.ConnectAsync(cloned))
        {
            (await conn.ExecuteAsync(["GET", "k"], default)).AsText().ShouldBe("second", "the latest backup by default");
        }

        await Osb.DeprovisionGoneAsync(clone, Catalogs.Redis, Catalogs.RedisStandalone);
        await Osb.DeprovisionGoneAsync(source, Catalogs.Redis, Catalogs.RedisStandalone);
    }
}

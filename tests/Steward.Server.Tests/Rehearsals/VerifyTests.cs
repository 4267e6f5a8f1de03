using System.Net;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Rehearsals;

/// <summary>steward verify on a live instance whose table file has damaged pages: found, named, recorded.</summary>
[Collection("rehearsal")]
public sealed class VerifyTests(RehearsalBroker broker)
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task Bytes_flipped_in_a_table_file_are_found_by_verify_and_recorded_in_an_incident_naming_relation_file_and_block()
    {
        var server = broker.Server;
        var osb = server.Client;
        var id = "verify-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL); INSERT INTO accounts SELECT g, repeat('o', 100) FROM generate_series(1, 5000) g");
        var file = (await Sql.ScalarAsync(uri, "SELECT pg_relation_filepath('accounts')"))!;

        var clean = await osb.PostAsync($"/instances/{id}/verify");
        clean.Status.ShouldBe(HttpStatusCode.OK, clean.ToString());
        clean.Body.GetProperty("clean").GetBoolean().ShouldBeTrue(clean.ToString());

        // A clean restart writes every page and leaves nothing cached: the next read comes from the file.
        (await osb.UpdateAsync(id, Pg, null, new { statement_timeout_ms = 60000 })).Status.ShouldBe(HttpStatusCode.Accepted);
        (await osb.WaitAsync(id)).Str("state").ShouldBe("succeeded");
        var path = Path.Combine((await osb.ApiAsync($"/instances/{id}")).Body.Text("directory"), "data", file);
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            foreach (var block in new[] { 3L, 9L })
            {
                stream.Position = (block * 8192) + 4000;
                var b = stream.ReadByte();
                stream.Position--;
                stream.WriteByte((byte)(b ^ 0xFF));
            }
        }

        var damaged = await osb.PostAsync($"/instances/{id}/verify");
        damaged.Status.ShouldBe(HttpStatusCode.OK, damaged.ToString());
        damaged.Body.GetProperty("clean").GetBoolean().ShouldBeFalse(damaged.ToString());
        var found = damaged.Body.GetProperty("damaged").EnumerateArray().Single(d => d.GetProperty("file").GetString() == file);
        found.GetProperty("relation").GetString().ShouldBe("accounts");
        found.GetProperty("database").GetString().ShouldBe("app");
        found.GetProperty("blocks").EnumerateArray().Select(b => b.GetInt64()).ShouldContain(3L, damaged.ToString());
        damaged.Body.GetProperty("checksum_failures").GetProperty("app").GetInt64().ShouldBeGreaterThan(0);

        var incident = (await osb.ApiAsync($"/incidents/{damaged.Str("incident_id")}")).Body;
        incident.GetProperty("class").GetString().ShouldBe("data-corruption");
        incident.GetProperty("instance_id").GetString().ShouldBe(id);
        incident.GetProperty("summary").GetString()!.ShouldContain($"accounts in database app (file {file}, block");

        var redis = "verify-redis-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(redis, Catalogs.Redis, Catalogs.RedisStandalone);
        var refused = await osb.PostAsync($"/instances/{redis}/verify");
        refused.Status.ShouldBe(HttpStatusCode.BadRequest);
        refused.ToString().ShouldContain("steward rebuild");
    }
}

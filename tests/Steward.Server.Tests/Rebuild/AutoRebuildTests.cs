using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Supervision;
using Steward.Server.Tests.Wal;

namespace Steward.Server.Tests.Rebuild;

/// <summary>
/// Automatic rebuild on a plan that opted in: a data-corruption quarantine is rebuilt without a person, at the latest
/// recoverable point, once; the next one within the budget's window stays quarantined with the reason.
/// </summary>
public sealed class AutoRebuildTests
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task A_corrupted_instance_on_an_opted_in_plan_is_rebuilt_automatically_once_and_then_left_to_a_person()
    {
        var settings = WalBroker.FastArchiving(new(SupervisedBrokerFixture.Settings))
            .Concat(new Dictionary<string, string> { ["STEWARD_AUTO_REBUILD_PLANS"] = "postgresql/standalone", ["STEWARD_AUTO_REBUILD_INTERVAL_MS"] = "300" })
            .ToDictionary();
        await using var server = await StewardServer.StartAsync(settings);
        var osb = server.Client;
        var id = "auto-rb-" + Guid.NewGuid().ToString("N")[..6];
        var uri = await Pitr.InstanceAsync(osb, id);
        await Sql.ExecAsync(uri, "INSERT INTO t (v) SELECT generate_series(1, 1000)");
        await osb.BackupAsync(id);
        var late = await Pitr.InsertAsync(uri, 1001);
        await Pitr.WaitRecoverableAsync(osb, id, late);

        var first = await CorruptAsync(server, id);
        var incident = await WaitIncidentAsync(osb, first, i => i.GetProperty("state").GetString() == "resolved");
        var kinds = incident.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        kinds.ShouldContain("quarantined");
        kinds.ShouldContain("auto-rebuild");
        kinds.IndexOf("rebuilt").ShouldBeGreaterThan(kinds.IndexOf("auto-rebuild"), string.Join(", ", kinds));
        (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("state").GetString().ShouldBe("ready");
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM t")).ShouldBe("1001", "rebuilt at the latest recoverable point, with the same credentials");

        // The budget (1 within 24 h) is spent: the next quarantine waits for a person, and says why.
        var second = await CorruptAsync(server, id);
        var left = await WaitIncidentAsync(osb, second, i => i.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "auto-rebuild-skipped"));
        left.GetProperty("state").GetString().ShouldBe("quarantined");
        left.GetProperty("timeline").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "auto-rebuild-skipped").GetProperty("detail").GetString()!
            .ShouldContain("budget of 1 automatic rebuild(s) within 24 h is spent");
        (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("state").GetString().ShouldBe("quarantined");
        await osb.DeprovisionGoneAsync(id, Pg, PgPlan);
    }

    /// <summary>Removes pg_control and kills the server; returns the quarantine incident's id.</summary>
    private static async Task<string> CorruptAsync(StewardServer server, string id)
    {
        var instance = (await server.Client.ApiAsync($"/instances/{id}")).Body;
        File.Delete(Path.Combine(instance.GetProperty("directory").GetString()!, "data", "global", "pg_control"));
        Processes.Kill(instance.GetProperty("process").GetProperty("pid").GetInt32(), 9);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var quarantine = (await server.Client.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray()
                .FirstOrDefault(i => i.GetProperty("timeline").EnumerateArray().Any(e => e.GetProperty("kind").GetString() == "quarantined") && i.GetProperty("state").GetString() != "resolved");
            if (quarantine.ValueKind != System.Text.Json.JsonValueKind.Undefined)
            {
                return quarantine.GetProperty("id").GetString()!;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "the instance was not quarantined");
            await Task.Delay(100);
        }
    }

    private static async Task<System.Text.Json.JsonElement> WaitIncidentAsync(OsbClient osb, string incidentId, Func<System.Text.Json.JsonElement, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var incident = await osb.IncidentAsync(incidentId);
            if (done(incident))
            {
                return incident;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(180), incident.GetRawText());
            await Task.Delay(200);
        }
    }
}

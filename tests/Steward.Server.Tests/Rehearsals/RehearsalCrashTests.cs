using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Wal;

namespace Steward.Server.Tests.Rehearsals;

/// <summary>kill -9 of the broker while a rehearsal's sandbox server runs: the next start stops and removes the sandbox and records the rehearsal failed.</summary>
public sealed class RehearsalCrashTests
{
    [Fact]
    public async Task A_rehearsal_interrupted_by_kill_9_leaves_no_sandbox_process_or_directory_after_a_restart()
    {
        await using var server = await StewardServer.StartAsync(WalBroker.FastArchiving());
        var osb = server.Client;
        var id = "rh-crash-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var uri = (await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE t (v int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10000)");
        var backup = (await osb.BackupAsync(id)).Text("id");

        var rehearsal = (await Rehearse.StartAsync(server, id, new { check = "SELECT count(*) > 0 FROM (SELECT pg_sleep(30)) s" })).Str("id")!;
        var sandbox = Rehearse.SandboxDirectory(server, rehearsal);
        await Rehearse.WaitAsync(osb, rehearsal, r => r.GetProperty("state").GetString() != "running" || (r.GetProperty("step").GetString() ?? string.Empty).StartsWith("checking", StringComparison.Ordinal));
        Processes.Under(sandbox).ShouldNotBeEmpty("the sandbox's server runs");
        var groups = SandboxCgroupProbe.Available ? SandboxCgroupProbe.Groups(Processes.Under(sandbox).First(p => Processes.CommandLine(p).Contains("postgres -D", StringComparison.Ordinal) && !Processes.CommandLine(p).Contains("steward-shim", StringComparison.Ordinal))).Values.Where(g => g.EndsWith("/rehearsal-" + rehearsal, StringComparison.Ordinal)).ToList() : [];
        if (SandboxCgroupProbe.Available)
        {
            groups.ShouldNotBeEmpty("the sandbox's server runs in its own cgroup");
        }

        await server.KillAsync();
        Processes.Under(sandbox).ShouldNotBeEmpty("the sandbox outlives the broker until its next start");
        await server.StartProcessAsync();

        var after = await Rehearse.WaitAsync(osb, rehearsal);
        after.GetProperty("state").GetString().ShouldBe("failed");
        after.GetProperty("summary").GetString()!.ShouldStartWith("interrupted");
        after.TryGetProperty("incident_id", out _).ShouldBeFalse("an interrupted rehearsal proves nothing about the backup");
        Processes.Under(sandbox).ShouldBeEmpty();
        Directory.Exists(sandbox).ShouldBeFalse();
        groups.ShouldAllBe(dir => !Directory.Exists(dir), "the orphan cgroup is removed at the next start");

        // The instance and its backup are as they were: a new rehearsal of the same backup passes.
        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM t")).ShouldBe("10000");
        var again = await Rehearse.WaitAsync(osb, (await Rehearse.StartAsync(server, id)).Str("id")!);
        again.GetProperty("state").GetString().ShouldBe("passed", again.GetRawText() + "\n" + server.Log);
        again.GetProperty("backup_id").GetString().ShouldBe(backup);
    }
}

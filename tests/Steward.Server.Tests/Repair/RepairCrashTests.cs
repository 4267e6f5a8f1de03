using System.Net;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Rebuild;

namespace Steward.Server.Tests.Repair;

/// <summary>
/// kill -9 of the broker at the steps of a repair (building the copy, replaying, stopping the live server, which resumes through shipping its last WAL, and replacing pages), then a restart on the same data: the repair finishes, every row is
/// there, and no copy (process, port, directory) is left. Each test owns its broker, since it kills it.
/// </summary>
public sealed class RepairCrashTests
{
    [Theory]
    [InlineData("restoring backup")]
    [InlineData("replaying the archived WAL")]
    [InlineData("stopping the live server")]
    [InlineData("replacing the damaged pages")]
    public async Task A_repair_interrupted_by_kill_9_finishes_after_a_restart_with_nothing_orphaned(string step)
    {
        await using var server = await StewardServer.StartAsync(Wal.WalBroker.FastArchiving());
        var osb = server.Client;
        var damaged = await Damaged.CreateAsync(server, "rp-crash-" + Guid.NewGuid().ToString("N")[..6], [4, 11]);
        (await osb.PostAsync($"/instances/{damaged.Id}/verify")).Body.GetProperty("clean").GetBoolean().ShouldBeFalse();

        var started = await Damaged.RepairAsync(osb, damaged.Id);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var operation = started.Str("operation")!;
        string[] order = ["recording", "restoring backup", "replaying the archived WAL", "checking the copy", "checkpointing the live server", "stopping the live server", "handing the live server's last WAL", "replacing the damaged pages", "starting the live server", "checking the repaired", "removing the repair copy"];
        var target = Array.FindIndex(order, s => step.StartsWith(s, StringComparison.Ordinal));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var op = (await osb.ApiAsync($"/operations/{operation}")).Body;
            var description = op.GetProperty("description").GetString()!;
            var at = Array.FindIndex(order, s => description.StartsWith(s, StringComparison.Ordinal));
            if (at >= target || op.GetProperty("state").GetString() != "in progress")
            {
                break;
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(120), $"the repair never reached '{step}': {op.GetRawText()}");
            await Task.Delay(2);
        }

        await server.KillAsync();
        await server.StartProcessAsync();
        var done = await osb.WaitOperationAsync(operation);
        done.GetProperty("state").GetString().ShouldBe("succeeded", done.GetRawText() + "\n" + server.Log);

        (await Sql.ScalarAsync(damaged.Uri, Damaged.TableDigest)).ShouldBe(damaged.Md5, "every row, as it was before the damage");
        (await osb.PostAsync($"/instances/{damaged.Id}/verify")).Body.GetProperty("clean").GetBoolean().ShouldBeTrue();
        Damaged.Sandboxes(server).ShouldBeEmpty("no copy directory is left");
        Damaged.SandboxProcessCount(server).ShouldBe(0, "no copy process is left");
        var directory = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(damaged.DataFile))))!;
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal) && c.Contains(directory, StringComparison.Ordinal)).ShouldBe(1, "the live instance runs, once");
    }
}

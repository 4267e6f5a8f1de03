using System.Net;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Rebuild;

/// <summary>
/// kill -9 of the broker at several steps of a rebuild, then a restart on the same data: the rebuild finishes, the
/// data is the backup's, the broken files are preserved once, and no process, staging directory or second copy is
/// left. Each test owns its broker, since it kills it.
/// </summary>
public sealed class RebuildCrashTests
{
    private const string Pg = Catalogs.PostgreSql;
    private const string PgPlan = Catalogs.PostgreSqlStandalone;

    [Theory]
    [InlineData("at once")]
    [InlineData("once the files are preserved")]
    [InlineData("while the backup is restored")]
    [InlineData("once the rebuilt server runs")]
    public async Task A_rebuild_interrupted_by_kill_9_finishes_after_a_restart_with_nothing_orphaned(string moment)
    {
        await using var server = await StewardServer.StartAsync();
        var osb = server.Client;
        var id = "rb-crash-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(id, "app-" + id, Pg, PgPlan)).GetProperty("uri").GetString()!;
        // Enough rows that the restore's staging directory lives long enough to be seen by the poll below on a loaded
        // machine (ci26 missed it with 100 000).
        await Sql.ExecAsync(uri, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, repeat('x', 200) FROM generate_series(1, 400000) g");
        await osb.BackupAsync(id);
        await Sql.ExecAsync(uri, "DELETE FROM orders WHERE id > 50000");
        var instance = (await osb.ApiAsync($"/instances/{id}")).Body;
        var directory = instance.GetProperty("directory").GetString()!;
        var oldPid = instance.GetProperty("process").GetProperty("pid").GetInt32();
        var preservedRoot = Path.Combine(server.DataDir, "preserved");

        var started = await server.RequestRebuildAsync(id, null, null);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var operation = started.Str("operation")!;
        Func<bool> reached = moment switch
        {
            "at once" => () => true,
            "once the files are preserved" => () => Directory.Exists(preservedRoot) && Directory.GetDirectories(preservedRoot).Any(d => d.Contains(operation, StringComparison.Ordinal)),
            "while the backup is restored" => () => Directory.Exists(Path.Combine(directory, "restore-staging")),
            _ => () => int.TryParse(ReadOrEmpty(Path.Combine(directory, "run", "server.pid")), out var pid) && pid != oldPid && Processes.IsAlive(pid),
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!reached())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(120), $"the rebuild never reached '{moment}'");
            await Task.Delay(2);
        }

        await server.KillAsync();
        await server.StartProcessAsync();
        var done = await osb.WaitOperationAsync(operation);
        done.GetProperty("state").GetString().ShouldBe("succeeded", done.GetRawText() + "\n" + server.Log);

        (await Sql.ScalarAsync(uri, "SELECT count(*) FROM orders")).ShouldBe("50000", "the latest recoverable point: the backup's rows and the deletion after it");
        var preserved = Directory.GetDirectories(preservedRoot).Where(d => Path.GetFileName(d).Contains(operation, StringComparison.Ordinal)).ToList();
        preserved.Count.ShouldBe(1, string.Join(", ", preserved));
        Directory.Exists(Path.Combine(preserved[0], "data", "base")).ShouldBeTrue("the instance's files as they were before the rebuild");
        Directory.Exists(Path.Combine(directory, "restore-staging")).ShouldBeFalse();
        Directory.Exists(Path.Combine(directory, "data.pre-restore")).ShouldBeFalse();
        Processes.Under(preservedRoot).ShouldBeEmpty("nothing runs in the preserved files");
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal) && c.Contains(directory, StringComparison.Ordinal)).ShouldBe(1);
    }

    [Theory]
    [InlineData("at once")]
    [InlineData("while the backup is restored")]
    [InlineData("while the source's archived WAL is replayed")]
    public async Task A_clone_interrupted_by_kill_9_finishes_after_a_restart_with_one_new_instance(string moment)
    {
        var pointInTime = moment.Contains("WAL", StringComparison.Ordinal);
        await using var server = await StewardServer.StartAsync(Wal.WalBroker.FastArchiving());
        var osb = server.Client;
        var source = "cl-crash-" + Guid.NewGuid().ToString("N")[..6];
        var clone = source + "-copy";
        await osb.ProvisionReadyAsync(source, Pg, PgPlan);
        var uri = (await osb.BindReadyAsync(source, "app-" + source, Pg, PgPlan)).GetProperty("uri").GetString()!;
        await Sql.ExecAsync(uri, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g");
        await osb.BackupAsync(source);
        if (pointInTime)
        {
            // WAL after the backup that only the replay brings into the clone.
            await Sql.ExecAsync(uri, "INSERT INTO orders SELECT g, repeat('y', 200) FROM generate_series(100001, 150000) g");
            await Wal.Pitr.WaitRecoverableAsync(osb, source, await Wal.Pitr.ServerClockAsync(uri));
        }

        var before = server.InstanceDirectories();
        var started = await osb.ProvisionAsync(clone, Pg, PgPlan, pointInTime ? new { clone_from = new { instance_id = source, latest = true } } : new { clone_from = new { instance_id = source } });
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Func<string, bool> reached = pointInTime
            ? d => File.Exists(Path.Combine(d, "restore-staging", "recovery.signal")) || File.Exists(Path.Combine(d, "data", "recovery.signal"))
            : d => Directory.Exists(Path.Combine(d, "restore-staging"));
        while (moment != "at once" && !server.InstanceDirectories().Except(before).Any(reached))
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(120), $"the clone never reached '{moment}'");
            await Task.Delay(2);
        }

        await server.KillAsync();
        await server.StartProcessAsync();
        var done = await osb.WaitAsync(clone, started.Str("operation"), 180);
        done.Str("state").ShouldBe("succeeded", done.ToString() + "\n" + server.Log);
        var cloneUri = (await osb.BindReadyAsync(clone, "app-" + clone, Pg, PgPlan)).GetProperty("uri").GetString()!;
        (await Sql.ScalarAsync(cloneUri, "SELECT count(*) FROM orders")).ShouldBe(pointInTime ? "150000" : "100000");
        var added = server.InstanceDirectories().Except(before).ToList();
        added.Count.ShouldBe(1, "one new instance directory");
        Directory.Exists(Path.Combine(added[0], "restore-staging")).ShouldBeFalse();
        File.Exists(Path.Combine(added[0], "data", "recovery.signal")).ShouldBeFalse("the clone left recovery");
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal)).ShouldBe(2, "the source's server and the clone's");
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}

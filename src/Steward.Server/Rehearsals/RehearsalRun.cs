using System.Globalization;
using Steward.Backup.Sources;
using Steward.Backups;
using Steward.Engines;
using Steward.Engines.PostgreSql.Wal;
using Steward.Errors;
using Steward.Instances;
using Steward.Rehearsals;
using Steward.Runtime;
using Steward.Security;
using Steward.Server.Backups;
using Steward.Server.Backups.Wal;
using Steward.Server.Configuration;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>
/// One rehearsal, start to end: a sandbox with its own directory, loopback port and administrator password and
/// none of the instance's bindings; the backup restored into it exactly as a restore of the instance would (a
/// physical backup of an archiving instance replays WAL from the archive and promotes), its server at low CPU and
/// IO priority; the engine's checks; the sandbox stopped and removed (or kept). The live instance's files, port and
/// processes are never touched: the sandbox reads the backup from storage and the WAL from the archive.
/// </summary>
internal sealed class RehearsalRun(
    IRehearsalStore rehearsals,
    EngineRegistry engines,
    PortAllocator ports,
    BackupService backups,
    IEnumerable<IRehearsalEngine> rehearsalEngines,
    ProgressBoard progress,
    RehearsalIncidents incidents,
    SandboxCgroups cgroups,
    StewardOptions options,
    TimeProvider time)
{
    private IInstanceRuntime Runtime => engines.Runtime;

    public async Task<RehearsalRecord> RunAsync(RehearsalRecord record, ServiceInstance live, BackupRecord backup, PointInTimePayload? plan, CancellationToken cancellationToken, CancellationToken stopping)
    {
        var engine = engines.Engine(live.ServiceId);
        var rehearsal = rehearsalEngines.First(r => r.Service == engine.Offering.Name);
        var method = backups.Method(engine.Offering.Name, backup.Kind);
        var paths = Runtime.PathsFor(record.Sandbox);
        var checks = new List<RehearsalCheck>();
        var measurements = new Dictionary<string, object?>
        {
            ["backup_kind"] = backup.Kind,
            ["backup_plaintext_bytes"] = backup.PlaintextBytes,
            ["backup_stored_bytes"] = backup.StoredBytes,
            ["priority"] = LowPriority.Describe(),
        };
        var started = time.GetTimestamp();
        double? restoreSeconds = null;
        var cgroup = SandboxCgroup.None("none: the rehearsal ended before its sandbox was prepared");

        async Task Step(string step)
        {
            record = record with { Step = step };
            await rehearsals.SaveRehearsalAsync(record, CancellationToken.None);
        }

        try
        {
            await Step("allocating a loopback port");
            var sandboxInstance = live with { InternalId = record.Sandbox, Port = null, AdminPassword = Secrets.Token(24) };
            var port = await ports.AllocateAsync(async p => await rehearsals.SaveRehearsalAsync(record = record with { Port = p }, cancellationToken), cancellationToken);
            var sandbox = engines.Context(sandboxInstance with { Port = port });

            // Until the sandbox adopts its own administrator password, a server restored from the instance's data
            // directory accepts only the instance's (where the engine keeps it in the data).
            var restoring = method.RestoresWholeDataDirectory && engine.AdminPasswordInData ? sandbox with { Instance = sandbox.Instance with { AdminPassword = live.AdminPassword } } : sandbox;

            await Step("preparing the sandbox");
            await Runtime.CreateDirectoriesAsync(paths, cancellationToken);
            cgroup = cgroups.Create(record.Sandbox);
            measurements["cgroup"] = cgroup.Describe();
            await (method.RestoresWholeDataDirectory ? engine.InitializeForRestoreAsync(sandbox, cancellationToken) : engine.InitializeAsync(sandbox, cancellationToken));
            await engine.ConfigureAsync(sandbox, cancellationToken);
            await rehearsal.ConfigureSandboxAsync(sandbox, engines.Context(live), cancellationToken);

            await Step($"restoring backup {backup.Id} into the sandbox");
            var restoreStarted = time.GetTimestamp();
            var host = new RestoreHost(backup, restoring, engine, backups, progress.Track(record.Id), ct => StartCheckedAsync(engine, rehearsal, restoring, checks, cgroup, ct), options.StopGrace);
            if (plan is not null)
            {
                await Steward.Backup.Unpack.BackupChain.UnpackAsync(host, paths.DataDir, cancellationToken);
                await RecoverySettings.WriteAsync(restoring, paths.DataDir, plan.Settings, cancellationToken);
                await Step($"replaying archived WAL to {plan.Description}");
                await ReplayAsync(engine, rehearsal, restoring, checks, cgroup, cancellationToken);
            }
            else if (method.RestoresWholeDataDirectory)
            {
                await method.RestoreAsync(restoring, host, cancellationToken);
            }
            else
            {
                await StartCheckedAsync(engine, rehearsal, sandbox, checks, cgroup, cancellationToken);
                await engine.BootstrapAsync(sandbox, cancellationToken);
                await method.RestoreAsync(sandbox, host, cancellationToken);
            }

            restoreSeconds = Math.Round(time.GetElapsedTime(restoreStarted).TotalSeconds, 2);
            var what = plan is null ? $"backup {backup.Id} ({backup.Kind}, {Bytes(backup.PlaintextBytes)})" : $"base backup {backup.Id} ({Bytes(backup.PlaintextBytes)}) and archived WAL to {plan.Description}";
            checks.Add(RehearsalCheck.Pass("restore", string.Create(CultureInfo.InvariantCulture, $"{what} restored into a sandbox on port {port}; the server reached a consistent state and answered after {restoreSeconds:0.0} s")));

            await Step("giving the sandbox its own credentials");
            await rehearsal.SecureAsync(sandbox, live.AdminPassword, cancellationToken);

            await Step("checking the restored data");
            checks.AddRange(await rehearsal.CheckRunningAsync(sandbox, ManifestProperties(backup), record.CheckFile, cancellationToken));
            if (Runtime.GetStatus(paths) is ProcessStatus.Running running)
            {
                measurements["server_cpu_seconds"] = CpuSeconds(running.Pid);
            }

            await Step("stopping the sandbox");
            await Runtime.StopAsync(paths, engine.Launch(sandbox).StopSignal, options.StopGrace, cancellationToken);
            checks.AddRange(await rehearsal.CheckStoppedAsync(sandbox, cancellationToken));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            checks.Add(RehearsalCheck.Fail(record.Step ?? "start", "interrupted: the broker was stopped; the sandbox was removed"));
            record = record with { Keep = false };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            checks.Add(RehearsalCheck.Fail(record.Step ?? "start", $"the rehearsal did not finish within STEWARD_REHEARSAL_TIMEOUT_MINUTES; last log lines: {ServerLog.Tail(paths)}"));
        }
        catch (Exception ex)
        {
            var reason = ex is StewardException or Steward.Backup.Pipeline.BackupException ? ex.Message : $"{ex.Message}; last log lines: {ServerLog.Tail(paths)}";
            checks.Add(RehearsalCheck.Fail(record.Step ?? "start", reason));
        }
        finally
        {
            progress.Forget(record.Id);
        }

        measurements["sandbox_bytes"] = DirectoryBytes(paths.DataDir);
        await Runtime.StopAsync(paths, 9, TimeSpan.Zero, CancellationToken.None);
        await cgroups.RemoveAsync(cgroup);
        if (!record.Keep)
        {
            await Runtime.DeleteAsync(paths, CancellationToken.None);
        }

        var interrupted = stopping.IsCancellationRequested;
        var passed = !interrupted && checks.Count > 0 && checks.All(c => c.Passed != false);
        var failedCheck = checks.FirstOrDefault(c => c.Passed == false);
        record = record with
        {
            State = passed ? RehearsalState.Passed : RehearsalState.Failed,
            Step = null,
            Checks = checks,
            Measurements = measurements,
            RestoreSeconds = restoreSeconds,
            TotalSeconds = Math.Round(time.GetElapsedTime(started).TotalSeconds, 2),
            KeptPath = record.Keep ? paths.Root : null,
            FinishedAt = time.GetUtcNow(),
            Summary = passed
                ? string.Create(CultureInfo.InvariantCulture, $"backup {backup.Id} is restorable: restored to {record.Target} in {restoreSeconds:0.0} s; {checks.Count(c => c.Passed == true)} checks passed ({string.Join(", ", checks.Where(c => c.Passed == true).Select(c => c.Name))})")
                : interrupted ? $"interrupted: the broker stopped during the rehearsal; nothing was proven and the sandbox was removed"
                : $"backup {backup.Id} is not restorable: {failedCheck?.Name} failed: {failedCheck?.Evidence}",
        };
        if (record.State == RehearsalState.Failed && !interrupted)
        {
            record = record with { IncidentId = await incidents.FailedAsync(record, CancellationToken.None) };
        }
        else if (passed)
        {
            await incidents.PassedAsync(record, CancellationToken.None);
        }

        await rehearsals.SaveRehearsalAsync(record, CancellationToken.None);
        return record;
    }

    /// <summary>Runs the engine's file checks, then starts the sandbox's server at low priority and waits until it answers.</summary>
    private async Task StartCheckedAsync(IDataServiceEngine engine, IRehearsalEngine rehearsal, EngineContext context, List<RehearsalCheck> checks, SandboxCgroup cgroup, CancellationToken cancellationToken)
    {
        var files = await rehearsal.CheckFilesAsync(context, cancellationToken);
        checks.AddRange(files);
        if (files.FirstOrDefault(c => c.Passed == false) is { } failed)
        {
            throw new StewardException(ErrorCode.Internal, $"{failed.Name}: {failed.Evidence}");
        }

        await Runtime.StartAsync(context.Paths, Lowered(engine.Launch(context)), cancellationToken);
        Confine(context, cgroup);
        await WaitAsync(context, async ct => { await engine.ProbeAsync(context, ct); return true; }, "answer", cancellationToken);
    }

    /// <summary>Starts the server in archive recovery and waits until it has reached its target and promoted itself.</summary>
    private async Task ReplayAsync(IDataServiceEngine engine, IRehearsalEngine rehearsal, EngineContext context, List<RehearsalCheck> checks, SandboxCgroup cgroup, CancellationToken cancellationToken)
    {
        checks.AddRange(await rehearsal.CheckFilesAsync(context, cancellationToken));
        await Runtime.StartAsync(context.Paths, Lowered(engine.Launch(context)), cancellationToken);
        Confine(context, cgroup);
        await WaitAsync(context, async ct => !(await WalInspector.RecoveryAsync(context, ct)).InRecovery, "finish recovery", cancellationToken, TimeSpan.MaxValue);
        await RecoverySettings.RemoveAsync(context, context.Paths.DataDir, cancellationToken);
    }

    private async Task WaitAsync(EngineContext context, Func<CancellationToken, Task<bool>> done, string what, CancellationToken cancellationToken, TimeSpan? limit = null)
    {
        var clock = time.GetTimestamp();
        Exception? last = null;
        while (true)
        {
            if (Runtime.GetStatus(context.Paths) is not ProcessStatus.Running)
            {
                throw new StewardException(ErrorCode.Internal, $"the restored server {ServerLog.Describe(Runtime.GetStatus(context.Paths))} before it could {what}; last log lines: {ServerLog.Tail(context.Paths, 6)}");
            }

            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                probe.CancelAfter(TimeSpan.FromSeconds(5));
                if (await done(probe.Token))
                {
                    return;
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Not accepting connections until the restored data is consistent.
                last = ex;
            }

            if (time.GetElapsedTime(clock) > (limit ?? options.StartupTimeout))
            {
                throw new StewardException(ErrorCode.Internal, $"the restored server did not {what} within {options.StartupTimeout.TotalSeconds:0} s ({last?.Message}); last log lines: {ServerLog.Tail(context.Paths, 6)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
    }

    /// <summary>The sandbox's server, just started, and what it forked so far, into the sandbox's cgroup.</summary>
    private void Confine(EngineContext context, SandboxCgroup cgroup)
    {
        if (Runtime.GetStatus(context.Paths) is ProcessStatus.Running running)
        {
            cgroup.Place(running.Pid);
        }
    }

    private static ProcessLaunch Lowered(ProcessLaunch launch)
    {
        var (file, args) = LowPriority.Wrap(launch.FileName, launch.Arguments);
        return launch with { FileName = file, Arguments = args };
    }

    private static IReadOnlyDictionary<string, string> ManifestProperties(BackupRecord backup) =>
        backup.ManifestJson is { } json ? Steward.Backup.Manifest.ManifestStore.Deserialize(System.Text.Encoding.UTF8.GetBytes(json)).Properties : new Dictionary<string, string>();

    private static double? CpuSeconds(int pid)
    {
        try
        {
            // utime, stime, cutime, cstime (fields 14-17) in clock ticks: the server and the backends it has reaped.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = fields.Skip(11).Take(4).Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
            return Math.Round(ticks / 100.0, 2);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? DirectoryBytes(string dir)
    {
        try
        {
            return Directory.Exists(dir) ? new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
    };
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Rehearsals;
using Steward.Security;
using Steward.Server.Backups.Wal;
using Steward.Server.Metrics;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>
/// Starts restore rehearsals, runs them (a few at a time, see <see cref="RehearsalOptions.Concurrency"/>), and
/// keeps their sandboxes from outliving them: at start, a rehearsal a previous broker left running has its sandbox
/// stopped and removed and is recorded failed; kept sandboxes are removed after
/// <see cref="RehearsalOptions.KeepHours"/>.
/// </summary>
internal sealed partial class RehearsalService(
    IStateStore store,
    IRehearsalStore rehearsals,
    EngineRegistry engines,
    IEnumerable<IRehearsalEngine> rehearsalEngines,
    IServiceProvider services,
    RehearsalRun runner,
    SandboxCgroups cgroups,
    StewardMetrics metrics,
    IOptions<RehearsalOptions> options,
    TimeProvider time,
    ILogger<RehearsalService> logger) : BackgroundService
{
    private readonly TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, Task> _running = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _slots = new(options.Value.Concurrency, options.Value.Concurrency);
    private CancellationToken _stopping;

    /// <summary>Validates the request, records the rehearsal and starts it; refuses with the reason, changing nothing.</summary>
    public async Task<RehearsalRecord> StartAsync(string instanceId, RehearsalRequest request, string? requestedBy, CancellationToken cancellationToken)
    {
        await _recovered.Task.WaitAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var instance = await store.GetInstanceAsync(instanceId, cancellationToken);
            if (instance is null || instance.State is InstanceState.Deleted or InstanceState.Provisioning or InstanceState.Failed)
            {
                throw StewardException.NotFound($"instance {instanceId} does not exist");
            }

            var engine = engines.Engine(instance.ServiceId);
            var rehearsal = rehearsalEngines.FirstOrDefault(r => r.Service == engine.Offering.Name)
                ?? throw StewardException.BadRequest($"service '{engine.Offering.Name}' has no restore rehearsal");
            if (engines.HighlyAvailable(instance))
            {
                throw StewardException.BadRequest($"rehearsing backups of instances on a highly available plan is not supported yet (instance {instanceId})");
            }

            if (request.Check is { } check && rehearsal.ValidateCheckFile(check) is { } problem)
            {
                throw StewardException.BadRequest(problem);
            }

            if ((await rehearsals.ListRehearsalsAsync(instanceId, cancellationToken)).FirstOrDefault(r => r.State == RehearsalState.Running) is { } busy)
            {
                throw StewardException.Concurrency($"rehearsal {busy.Id} of instance {instanceId} is still running; one at a time per instance");
            }

            var (backup, plan) = await ChooseAsync(instance, request, cancellationToken);
            var id = "rh-" + time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Secrets.Token(6).ToLowerInvariant();
            var record = new RehearsalRecord
            {
                Id = id,
                InstanceId = instanceId,
                State = RehearsalState.Running,
                BackupId = backup.Id,
                Target = plan?.Description ?? $"backup {backup.Id} taken {backup.StartedAt:u}",
                Sandbox = "rehearsal-" + id,
                Keep = request.Keep,
                Step = "queued",
                CheckFile = request.Check,
                RequestedBy = requestedBy,
                StartedAt = time.GetUtcNow(),
            };
            await rehearsals.SaveRehearsalAsync(record, cancellationToken);
            _running[id] = Task.Run(() => RunAsync(record, instance, backup, plan), CancellationToken.None);
            return record;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>True while a rehearsal of the instance runs (its sandbox exists).</summary>
    public async Task<bool> IsRunningAsync(string instanceId, CancellationToken cancellationToken) =>
        (await rehearsals.ListRehearsalsAsync(instanceId, cancellationToken)).Any(r => r.State == RehearsalState.Running);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        try
        {
            await RecoverAsync(stoppingToken);
        }
        finally
        {
            _recovered.TrySetResult();
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.SweepSeconds), time);
        try
        {
            do
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSweepFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: running rehearsals stop at their next step and are cleaned up at the next start.
        }

        await Task.WhenAll(_running.Values);
    }

    private async Task<(BackupRecord Backup, PointInTimePayload? Plan)> ChooseAsync(ServiceInstance instance, RehearsalRequest request, CancellationToken cancellationToken)
    {
        if (request.Target is { } target)
        {
            var planner = services.GetService<RecoveryPlanner>();
            if (planner is null || engines.Engine(instance.ServiceId) is not Engines.PostgreSql.PostgreSqlEngine { WalOptions: not null })
            {
                throw StewardException.BadRequest($"a point-in-time rehearsal needs WAL archiving, which instance {instance.Id} does not have; rehearse a backup instead");
            }

            var plan = await planner.PlanAsync(instance.Id, target, cancellationToken);
            var base_ = await store.GetBackupAsync(plan.BackupId, cancellationToken) ?? throw StewardException.NotFound($"backup {plan.BackupId} does not exist");
            return (base_, plan);
        }

        BackupRecord? backup;
        if (request.BackupId is { } id)
        {
            backup = await store.GetBackupAsync(id, cancellationToken);
            if (backup is null || backup.InstanceId != instance.Id)
            {
                throw StewardException.NotFound($"instance {instance.Id} has no backup {id}");
            }

            if (backup.State != BackupState.Succeeded)
            {
                throw StewardException.BadRequest($"backup {id} {(backup.State == BackupState.Failed ? "failed" : "is still running")}; only a succeeded backup can be rehearsed");
            }
        }
        else
        {
            backup = (await store.ListBackupsAsync(instance.Id, cancellationToken)).Where(b => b.State == BackupState.Succeeded).MaxBy(b => b.CompletedAt)
                ?? throw StewardException.BadRequest($"instance {instance.Id} has no succeeded backup to rehearse; take one with: steward backup create {instance.Id}");
        }

        return (backup, AsPointInTime(backup, instance));
    }

    /// <summary>A physical backup of an archiving instance is restored as a real restore would: replayed to the end of the backup and promoted.</summary>
    private PointInTimePayload? AsPointInTime(BackupRecord backup, ServiceInstance instance)
    {
        if (engines.Engine(instance.ServiceId) is not Engines.PostgreSql.PostgreSqlEngine { WalOptions: not null } || RecoveryPlanner.BaseOf(backup) is not { } start)
        {
            return null;
        }

        var timeline = start.Timeline.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new PointInTimePayload(backup.Id, "backup", start.Timeline, new() { ["recovery_target"] = "immediate", ["recovery_target_timeline"] = timeline }, $"the end of backup {backup.Id} (taken {backup.StartedAt:u})");
    }

    private async Task RunAsync(RehearsalRecord record, ServiceInstance instance, BackupRecord backup, PointInTimePayload? plan)
    {
        try
        {
            await _slots.WaitAsync(_stopping);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
                timeout.CancelAfter(TimeSpan.FromMinutes(options.Value.TimeoutMinutes));
                record = await runner.RunAsync(record, instance, backup, plan, timeout.Token, _stopping);
                metrics.RehearsalFinished(record);
            }
            finally
            {
                _slots.Release();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            LogInterrupted(logger, record.Id, record.InstanceId);
        }
        catch (Exception ex)
        {
            LogFailed(logger, record.Id, record.InstanceId, ex);
        }
        finally
        {
            _running.TryRemove(record.Id, out _);
        }
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var all = await rehearsals.ListRehearsalsAsync(null, cancellationToken);
        var left = all.Where(r => r.State == RehearsalState.Running).ToList();
        foreach (var rehearsal in left)
        {
            var paths = engines.Runtime.PathsFor(rehearsal.Sandbox);
            await engines.Runtime.StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
            await engines.Runtime.DeleteAsync(paths, cancellationToken);
        }

        // The sandboxes are gone; so must their cgroups be (and any process still in one), before a rehearsal is said
        // to be cleaned up: a reader who sees it failed finds nothing of it left.
        await cgroups.RemoveOrphansAsync();

        foreach (var rehearsal in left)
        {
            var failed = rehearsal with
            {
                State = RehearsalState.Failed,
                FinishedAt = time.GetUtcNow(),
                Summary = $"interrupted: the broker stopped while the rehearsal was at step '{rehearsal.Step}'; its sandbox was stopped and removed at the next start, nothing was proven (the backup is not known to be bad either)",
            };
            await rehearsals.SaveRehearsalAsync(failed, cancellationToken);
            LogCleanedUp(logger, rehearsal.Id, rehearsal.InstanceId, engines.Runtime.PathsFor(rehearsal.Sandbox).Root);
        }

        foreach (var latest in all.Where(r => r.State != RehearsalState.Running).GroupBy(r => r.InstanceId).Select(g => g.First()))
        {
            metrics.RehearsalFinished(latest);
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var keep = TimeSpan.FromHours(options.Value.KeepHours);
        var now = time.GetUtcNow();
        foreach (var kept in (await rehearsals.ListRehearsalsAsync(null, cancellationToken)).Where(r => r.KeptPath is not null && r.State != RehearsalState.Running && now - (r.FinishedAt ?? r.StartedAt) > keep))
        {
            var paths = engines.Runtime.PathsFor(kept.Sandbox);
            await engines.Runtime.StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
            await engines.Runtime.DeleteAsync(paths, cancellationToken);
            await rehearsals.SaveRehearsalAsync(kept with { KeptPath = null }, cancellationToken);
            LogKeptRemoved(logger, kept.Id, paths.Root, options.Value.KeepHours);
        }
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Rehearsal {RehearsalId} of instance {InstanceId} was left running by a previous broker: its sandbox {Sandbox} was stopped and removed, the rehearsal is recorded failed")]
    private static partial void LogCleanedUp(ILogger logger, string rehearsalId, string instanceId, string sandbox);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "Rehearsal {RehearsalId} of instance {InstanceId} stopped with the broker; its sandbox is removed at the next start")]
    private static partial void LogInterrupted(ILogger logger, string rehearsalId, string instanceId);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Error, Message = "Rehearsal {RehearsalId} of instance {InstanceId} failed outside its checks")]
    private static partial void LogFailed(ILogger logger, string rehearsalId, string instanceId, Exception exception);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Information, Message = "The kept sandbox of rehearsal {RehearsalId} ({Sandbox}) was removed after {Hours} h (STEWARD_REHEARSAL_KEEP_HOURS)")]
    private static partial void LogKeptRemoved(ILogger logger, string rehearsalId, string sandbox, int hours);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Warning, Message = "Removing expired rehearsal sandboxes failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

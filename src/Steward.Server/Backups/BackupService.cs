using System.Collections.Concurrent;
using System.Text;
using Steward.Backup.Engines;
using Steward.Backup.Filters.Age;
using Steward.Backup.Manifest;
using Steward.Backup.Pipeline;
using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Security;
using Steward.Server.Broker;
using Steward.Server.Logging;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Backups;

/// <summary>
/// Takes backups: the instance's backup method is the source, the configured filters follow, the configured
/// storage is last; all stream concurrently. A backup is recorded before it starts and marked succeeded only
/// once its data and manifest are durably stored; a failure records the stage that failed.
/// </summary>
internal sealed partial class BackupService(
    IStateStore store,
    EngineRegistry engines,
    IEnumerable<IBackupMethod> methods,
    BackupSettings settings,
    IBackupStorage storage,
    ProgressBoard progress,
    ILoggerFactory loggers,
    TimeProvider time,
    ILogger<BackupService> logger,
    Retention.BackupDeleter deleter,
    IEnumerable<IBackupObserver> observers,
    HighAvailability.HaBackups sources) : IHostedService
{
    private readonly IReadOnlyList<IBackupMethod> _methods = methods.ToList();
    private readonly IReadOnlyList<IBackupObserver> _observers = observers.ToList();
    private readonly ConcurrentDictionary<string, Running> _running = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    public IBackupStorage Storage => storage;

    public IReadOnlyList<IBackupMethod> MethodsFor(string service) => _methods.Where(m => m.Service == service).ToList();

    /// <summary>The method <paramref name="kind"/> of the service, or its default; 400 for a kind it does not have.</summary>
    public IBackupMethod Method(string service, string? kind)
    {
        var available = MethodsFor(service);
        return (kind is null ? available.FirstOrDefault(m => m.IsDefault) : available.FirstOrDefault(m => m.Kind == kind))
            ?? throw StewardException.BadRequest($"service '{service}' has no backup kind '{kind}'; it has: {string.Join(", ", available.Select(m => m.Kind))}");
    }

    /// <summary>Backups running now, requested or scheduled.</summary>
    public int RunningCount => _running.Count;

    public bool IsRunning(string instanceId) => _running.Values.Any(r => r.InstanceId == instanceId);

    public async Task<BackupRecord> StartAsync(ServiceInstance instance, string? kind, RequestIdentity identity, CancellationToken cancellationToken)
    {
        var service = engines.Engine(instance.ServiceId).Offering.Name;
        var method = Method(service, kind);
        if (method.ReadsInstanceFiles && !engines.Context(instance).Runtime.SharesFiles)
        {
            throw StewardException.BadRequest($"backup kind '{method.Kind}' reads the instance's data directory beside the broker, which instances on Kubernetes do not share; use kind '{Method(service, null).Kind}' (docs/kubernetes.md)");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (instance.State != InstanceState.Ready)
            {
                throw StewardException.Concurrency($"instance {instance.Id} is {instance.State.ToString().ToLowerInvariant()}; only a ready instance can be backed up");
            }

            if (await store.LatestInstanceOperationAsync(instance.Id, cancellationToken) is { State: OperationState.InProgress } op)
            {
                throw StewardException.Concurrency($"instance {instance.Id} has an operation in progress ({op.Kind.ToString().ToLowerInvariant()})");
            }

            if (IsRunning(instance.Id))
            {
                throw StewardException.Concurrency($"a backup of instance {instance.Id} is already running");
            }

            var id = "bk-" + time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Secrets.Token(6);
            var record = new BackupRecord
            {
                Id = id,
                InstanceId = instance.Id,
                Service = service,
                Kind = method.Kind,
                State = BackupState.InProgress,
                Storage = storage.Name,
                Key = $"{instance.Id}/{id}",
                OriginatingIdentity = identity.Originating,
                StartedAt = time.GetUtcNow(),
            };
            await store.SaveBackupAsync(record, cancellationToken);
            var cts = new CancellationTokenSource();
            var running = new Running(instance.Id, cts);
            _running[id] = running;
            running.Task = Task.Run(() => RunAsync(record, instance, method, cts.Token), CancellationToken.None);
            return record;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Cancels a running backup; false when it is not running.</summary>
    public bool Cancel(string backupId)
    {
        if (_running.TryGetValue(backupId, out var running))
        {
            running.Cancellation.Cancel();
            return true;
        }

        return false;
    }

    public void CancelInstance(string instanceId)
    {
        foreach (var (id, running) in _running)
        {
            if (running.InstanceId == instanceId)
            {
                Cancel(id);
            }
        }
    }

    /// <summary>Marks a finished backup deleting, removes its manifest and data from storage, then its record.</summary>
    public async Task DeleteAsync(BackupRecord backup, CancellationToken cancellationToken)
    {
        await RequireNoDependentsAsync(backup, cancellationToken);
        await deleter.DeleteAsync(backup, cancellationToken);
    }

    /// <summary>Streams a succeeded backup, verified against its manifest and against Steward's own record of its digests, into a sink.</summary>
    public async Task<PipelineResult> RestoreAsync(BackupRecord backup, IRestoreSink sink, IProgress<PipelineProgress>? report, CancellationToken cancellationToken)
    {
        // The pipeline verifies the data against the manifest; the manifest must still be the one recorded
        // when the backup was taken, or an object replaced together with its manifest would pass.
        BackupManifest manifest;
        try
        {
            manifest = await ManifestStore.ReadAsync(storage, backup.Key, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new RestoreFailedException(new PipelineFailure("manifest", StageKind.Storage, $"the manifest of backup {backup.Id} cannot be read: {ex.Message}", "manifest_unreadable"));
        }

        if (!string.Equals(manifest.StoredSha256, backup.StoredSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new RestoreFailedException(new PipelineFailure("manifest", StageKind.Integrity, $"the manifest of backup {backup.Id} no longer matches the digests Steward recorded when it was taken", "integrity"));
        }

        var pipeline = new RestorePipelineBuilder()
            .UseStorage(storage)
            .UseSink(sink)
            .UseAgeIdentities(settings.Identities)
            .UseTimeProvider(time)
            .UseLoggerFactory(loggers)
            .Build();
        var result = await pipeline.RunAsync(new RestoreRequest(backup.Key), report, cancellationToken);
        return result.Succeeded ? result : throw new RestoreFailedException(result.Failure!);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var backup in await store.ListBackupsAsync(null, cancellationToken))
        {
            if (backup.State == BackupState.InProgress)
            {
                // Its object was never completed, so storage never lists it; what the dead writer left is removed.
                if (storage is IIncompleteWriteCleanup cleanup)
                {
                    try
                    {
                        await cleanup.RemoveIncompleteWritesAsync(backup.Key, cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Log.CleanupFailed(logger, backup.Id, ex.Message);
                    }
                }

                await store.SaveBackupAsync(backup with
                {
                    State = BackupState.Failed,
                    FailedStage = "broker",
                    FailureKind = "interrupted",
                    Message = "the broker stopped while this backup was running",
                    CompletedAt = time.GetUtcNow(),
                }, cancellationToken);
            }
        }

        await deleter.ResumeAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var running in _running.Values)
        {
            await running.Cancellation.CancelAsync();
        }

        await Task.WhenAll(_running.Values.Select(r => r.Task ?? Task.CompletedTask));
    }

    private async Task RunAsync(BackupRecord record, ServiceInstance instance, IBackupMethod method, CancellationToken cancellationToken)
    {
        try
        {
            // An ha instance is backed up from a standby when one is healthy (HaBackups); the manifest says which.
            var (context, origin) = await sources.SourceAsync(instance, cancellationToken);
            var source = method is IChainedBackupMethod chained
                ? chained.CreateSource(context, record.Id, await ParentAsync(instance, method, cancellationToken))
                : method.CreateSource(context);
            var builder = new BackupPipelineBuilder().UseSource(source);
            var pipeline = settings.AddFilters(builder).UseStorage(storage).UseTimeProvider(time).UseLoggerFactory(loggers).Build();
            var request = new BackupRequest
            {
                BackupId = record.Id,
                InstanceId = record.InstanceId,
                Engine = record.Service,
                Key = record.Key,
                Properties = new Dictionary<string, string>(origin) { ["method"] = method.Kind, ["plan_id"] = instance.PlanId },

                // A backup's plaintext digest serves only its own restore, which the zstd frames' checksums serve as
                // well: one pass less over every byte, in the backup and in the restore (docs/backup-pipeline.md).
                PlaintextCheckedByFrames = true,
            };
            var result = await pipeline.RunAsync(request, progress.Track(record.Id), cancellationToken);
            record = result.Succeeded
                ? record with
                {
                    State = BackupState.Succeeded,
                    PlaintextBytes = result.PlaintextBytes,
                    StoredBytes = result.StoredBytes,
                    PlaintextDigest = result.PlaintextDigest,
                    StoredSha256 = result.StoredSha256,
                    ManifestJson = result.Manifest is { } m ? Encoding.UTF8.GetString(ManifestStore.Serialize(m)) : null,
                    CompletedAt = time.GetUtcNow(),
                }
                : record with
                {
                    State = BackupState.Failed,
                    FailedStage = result.Failure!.Stage,
                    FailureKind = result.Failure.Kind.ToString().ToLowerInvariant(),
                    Message = result.Failure.Message,
                    PlaintextBytes = result.PlaintextBytes,
                    StoredBytes = result.StoredBytes,
                    CompletedAt = time.GetUtcNow(),
                };
        }
        catch (Exception ex)
        {
            record = record with { State = BackupState.Failed, FailedStage = "broker", FailureKind = "internal", Message = ex.Message, CompletedAt = time.GetUtcNow() };
        }
        finally
        {
            _running.TryRemove(record.Id, out _);
            progress.Forget(record.Id);
        }

        await store.SaveBackupAsync(record, CancellationToken.None);
        Log.BackupFinished(logger, record.Id, record.InstanceId, record.State.ToString(), record.FailedStage, record.Message);
        foreach (var observer in _observers)
        {
            await observer.BackupFinishedAsync(record, CancellationToken.None);
        }
    }

    private sealed class Running(string instanceId, CancellationTokenSource cancellation)
    {
        public string InstanceId { get; } = instanceId;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        public Task? Task { get; set; }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Options;
using Steward.Engines;
using Steward.Instances;
using Steward.Pool;
using Steward.Runtime;
using Steward.Security;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Pool;

/// <summary>
/// Keeps data directories initialised ahead for the engines that can prepare them (docs/warm-pool.md). Each entry is
/// made by the engine's own initialisation with a fresh administrator password, one at a time at low priority, and
/// recorded Building before its files exist, so a broker killed while making one removes it at its next start.
/// A provision takes an entry in one statement and renames its data directory into the instance's place. No server
/// runs for an entry: the pool holds files only.
/// </summary>
internal sealed partial class WarmPool(
    IPoolStore pool,
    IStateStore store,
    EngineRegistry engines,
    IOptions<WarmPoolOptions> options,
    TimeProvider time,
    ILogger<WarmPool> logger) : BackgroundService
{
    /// <summary>The administrator every instance gets (InstanceBroker); an entry is initialised for it.</summary>
    internal const string AdminUser = "steward_admin";

    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _wake = new(0);

    private IInstanceRuntime Runtime => engines.Runtime;

    /// <summary>
    /// Gives <paramref name="instance"/> a prepared data directory when the pool has one for its service: the entry's
    /// administrator password becomes the instance's (saved before the files move) and the directory is renamed into
    /// the instance's place. Null when the pool has none (the caller initialises from scratch). Idempotent for a
    /// resumed provision: the entry the instance took before is found again.
    /// </summary>
    public async Task<ServiceInstance?> TakeAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var engine = engines.Engine(instance.ServiceId);
        if (engine is not IPreparedDataDirectories prepared || SizeFor(engine) == 0 || instance.AdminUser != AdminUser)
        {
            return null;
        }

        var entry = await pool.TakePoolEntryAsync(instance.ServiceId, await prepared.FingerprintAsync(cancellationToken), instance.Id, cancellationToken);
        Wake();
        if (entry is null)
        {
            LogEmpty(logger, engine.Offering.Name, instance.Id);
            return null;
        }

        var taken = instance with { AdminPassword = entry.AdminPassword, UpdatedAt = time.GetUtcNow() };
        await store.SaveInstanceAsync(taken, cancellationToken);
        var adopted = await Runtime.AdoptPreparedAsync(Runtime.PoolPathsFor(entry.Id), Runtime.PathsFor(instance.InternalId), cancellationToken);
        if (!adopted)
        {
            await pool.DeletePoolEntryAsync(entry.Id, cancellationToken);
            LogLost(logger, entry.Id, instance.Id);
            return null;
        }

        // The record stays until the provision's next step (ReleaseAsync): a broker killed before this step is recorded
        // finds the entry it took again, already in place, instead of initialising another data directory.
        LogTaken(logger, entry.Id, instance.Id);
        return taken;
    }

    /// <summary>Forgets the entry an instance took, once its provision has recorded taking it.</summary>
    public async Task ReleaseAsync(string instanceId, CancellationToken cancellationToken)
    {
        foreach (var entry in (await pool.ListPoolEntriesAsync(cancellationToken)).Where(e => e.State == PoolEntryState.Taken && e.InstanceId == instanceId))
        {
            await pool.DeletePoolEntryAsync(entry.Id, cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: the broker answers while the pool is cleaned up and filled.
        await Task.Yield();
        try
        {
            await ReconcileAsync(stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogFailed(logger, "cleaning up", ex);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var backoff = false;
            foreach (var engine in engines.Offerings.Select(o => engines.Engine(o.Id)))
            {
                if (engine is IPreparedDataDirectories prepared && SizeFor(engine) > 0)
                {
                    backoff |= !await TopUpAsync(engine, prepared, stoppingToken);
                }
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            if (backoff)
            {
                wait.CancelAfter(FailureBackoff);
            }

            try
            {
                await _wake.WaitAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private int SizeFor(IDataServiceEngine engine) => engine.Offering.Name == "postgresql" && Runtime.SupportsWarmPool ? options.Value.PostgreSqlSize : 0;

    /// <summary>Makes entries until the pool holds its size; false when making one failed.</summary>
    private async Task<bool> TopUpAsync(IDataServiceEngine engine, IPreparedDataDirectories prepared, CancellationToken cancellationToken)
    {
        try
        {
            var fingerprint = await prepared.FingerprintAsync(cancellationToken);
            while ((await pool.ListPoolEntriesAsync(cancellationToken)).Count(e => e.ServiceId == engine.Offering.Id && e.State == PoolEntryState.Ready && e.Fingerprint == fingerprint) < SizeFor(engine))
            {
                await BuildAsync(engine, prepared, fingerprint, cancellationToken);
            }

            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, "topping up", ex);
            return false;
        }
    }

    private async Task BuildAsync(IDataServiceEngine engine, IPreparedDataDirectories prepared, string fingerprint, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var now = time.GetUtcNow();
        var entry = new PoolEntry
        {
            Id = "pool-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)),
            ServiceId = engine.Offering.Id,
            Fingerprint = fingerprint,
            State = PoolEntryState.Building,
            AdminPassword = Secrets.Password(),
            CreatedAt = now,
        };

        // Recorded before any file exists: whatever a crash leaves of it is found and removed at the next start.
        await pool.SavePoolEntryAsync(entry, cancellationToken);
        var paths = Runtime.PoolPathsFor(entry.Id);
        try
        {
            await Runtime.CreateDirectoriesAsync(paths, cancellationToken);
            var plan = engine.Offering.Plans[0];
            var owner = new ServiceInstance
            {
                Id = entry.Id, InternalId = entry.Id, ServiceId = entry.ServiceId, PlanId = plan.Id,
                AdminUser = AdminUser, AdminPassword = entry.AdminPassword, State = InstanceState.Provisioning, CreatedAt = now, UpdatedAt = now,
            };
            await prepared.PrepareAsync(new EngineContext(owner, plan, paths, Runtime), options.Value.Nice, cancellationToken);
            await pool.SavePoolEntryAsync(entry with { State = PoolEntryState.Ready }, cancellationToken);
            LogReady(logger, entry.Id, engine.Offering.Name, clock.ElapsedMilliseconds);
        }
        catch (Exception)
        {
            await RemoveAsync(entry.Id, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// At start: entries a crash left half made, entries made under another fingerprint (a new server version or
    /// initialisation), entries taken by an instance that is no longer provisioning, files without an entry, and,
    /// when the pool is off, everything.
    /// </summary>
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var fingerprints = new Dictionary<string, string>();
        foreach (var engine in engines.Offerings.Select(o => engines.Engine(o.Id)))
        {
            if (engine is IPreparedDataDirectories prepared && SizeFor(engine) > 0)
            {
                fingerprints[engine.Offering.Id] = await prepared.FingerprintAsync(cancellationToken);
            }
        }

        var entries = await pool.ListPoolEntriesAsync(cancellationToken);
        foreach (var entry in entries)
        {
            var reason = entry.State switch
            {
                PoolEntryState.Building => "left half made by a broker that stopped while making it",
                PoolEntryState.Taken => (await store.GetInstanceAsync(entry.InstanceId!, cancellationToken))?.State == InstanceState.Provisioning
                    ? null
                    : "taken by an instance that is no longer provisioning",
                _ when !fingerprints.TryGetValue(entry.ServiceId, out var current) => "the pool is off for its service",
                _ when fingerprints[entry.ServiceId] != entry.Fingerprint => "made with another server version or initialisation",
                _ when !Directory.Exists(Runtime.PoolPathsFor(entry.Id).DataDir) => "its files are missing",
                _ => null,
            };
            if (reason is not null)
            {
                LogRemoved(logger, entry.Id, reason);
                await RemoveAsync(entry.Id, cancellationToken);
            }
        }

        var known = entries.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var name in Runtime.ListPoolEntries().Where(n => !known.Contains(n)))
        {
            LogRemoved(logger, name, "files without a pool entry");
            await Runtime.DeleteAsync(Runtime.PoolPathsFor(name), cancellationToken);
        }
    }

    private async Task RemoveAsync(string entryId, CancellationToken cancellationToken)
    {
        // Files first: a tool still running in them is killed; the record goes last, so a crash between leaves a
        // record that the next start removes again.
        await Runtime.DeleteAsync(Runtime.PoolPathsFor(entryId), cancellationToken);
        await pool.DeletePoolEntryAsync(entryId, cancellationToken);
    }

    [LoggerMessage(EventId = 14001, Level = LogLevel.Information, Message = "Warm pool entry {Entry} of {Service} ready in {Milliseconds} ms")]
    private static partial void LogReady(ILogger logger, string entry, string service, long milliseconds);

    [LoggerMessage(EventId = 14002, Level = LogLevel.Information, Message = "Instance {InstanceId} took warm pool entry {Entry}")]
    private static partial void LogTaken(ILogger logger, string entry, string instanceId);

    [LoggerMessage(EventId = 14003, Level = LogLevel.Information, Message = "Warm pool of {Service} empty: instance {InstanceId} is initialised from scratch")]
    private static partial void LogEmpty(ILogger logger, string service, string instanceId);

    [LoggerMessage(EventId = 14004, Level = LogLevel.Warning, Message = "Warm pool entry {Entry} removed: {Reason}")]
    private static partial void LogRemoved(ILogger logger, string entry, string reason);

    [LoggerMessage(EventId = 14005, Level = LogLevel.Warning, Message = "Warm pool entry {Entry} taken by instance {InstanceId} had no files left; initialised from scratch")]
    private static partial void LogLost(ILogger logger, string entry, string instanceId);

    [LoggerMessage(EventId = 14006, Level = LogLevel.Warning, Message = "Warm pool: {Activity} failed; retried in 30 s")]
    private static partial void LogFailed(ILogger logger, string activity, Exception exception);
}

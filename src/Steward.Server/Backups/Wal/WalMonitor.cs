using System.Collections.Concurrent;
using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Wal;
using Steward.Instances;
using Steward.Runtime;
using Steward.Security;
using Steward.Server.Operations;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// Measures every PostgreSQL instance's archive lag (what the server still waits to archive, and since when) and
/// raises an incident when it falls behind: the oldest unarchived segment has waited longer than the alert, or the
/// unarchived WAL would need a large part of the free disk. The incident resolves itself once archiving caught up.
/// At start it also refreshes each instance's archive helper, so a broker that moved keeps receiving WAL.
/// </summary>
internal sealed class WalMonitor(
    IStateStore store,
    EngineRegistry engines,
    WalSettings settings,
    WalArchive archive,
    HighAvailability.HaArchiving servers,
    TimeProvider time,
    ILogger<WalMonitor> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Measured> _latest = new();
    private readonly ConcurrentDictionary<string, string> _woken = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The newest measurement of an instance, or null before the first.</summary>
    public Measured? Latest(string instanceId) => _latest.TryGetValue(instanceId, out var m) ? m : null;

    /// <summary>Measures one instance now (and raises or resolves its incident).</summary>
    public async Task<Measured?> MeasureAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        // An engine whose binaries are missing has left the catalog; its instances are not supervised, nor measured.
        if (engines.Unavailable(instance.ServiceId) is not null || engines.Engine(instance.ServiceId) is not PostgreSqlEngine || instance.State != InstanceState.Ready)
        {
            return null;
        }

        // The single server, or every running member of an ha instance (primary first): each archives.
        var archiving = await servers.ArchivingServersAsync(instance, cancellationToken);
        if (archiving.Count == 0 || engines.Runtime.GetStatus(archiving[0].Paths) is not ProcessStatus.Running)
        {
            return Latest(instance.Id);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await _gate.WaitAsync(timeout.Token);
        try
        {
            return await MeasureAsync(instance, archiving, timeout.Token);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Measured> MeasureAsync(ServiceInstance instance, IReadOnlyList<Engines.EngineContext> archiving, CancellationToken cancellationToken)
    {
        var context = archiving[0];
        // A standalone instance's status is read on its health check's held session (an ha member has none).
        var status = archiving.Count == 1 && engines.Engine(instance.ServiceId) is PostgreSqlEngine engine
            ? await engine.OnCheckSessionAsync(context, WalInspector.StatusOnAsync, cancellationToken)
            : await WalInspector.StatusAsync(context, cancellationToken);
        var wake = $"{context.Port}/{status.ServerStartedAt:O}/{status.InRecovery}";
        if (status is { ArchiveModeOn: true, InRecovery: false, ServerStartedAt: not null } && (!_woken.TryGetValue(instance.Id, out var woken) || woken != wake))
        {
            // The checkpointer starts while the server is still recovering and then sleeps a whole checkpoint_timeout
            // without applying archive_timeout; a checkpoint wakes it, so an idle instance's RPO holds from its start
            // (and, on an ha instance, from a standby's promotion).
            await WalInspector.CheckpointAsync(context, cancellationToken);
            _woken[instance.Id] = wake;
        }

        // An ha instance's standbys archive too (archive_mode = always) and keep what they have not archived yet:
        // the instance is as far behind as its furthest-behind member.
        foreach (var member in archiving.Skip(1))
        {
            try
            {
                var s = await WalInspector.StatusAsync(member, cancellationToken);
                status = status with
                {
                    PendingSegments = Math.Max(status.PendingSegments, s.PendingSegments),
                    OldestPendingSince = new[] { status.OldestPendingSince, s.OldestPendingSince }.Min(),
                    FailedCount = status.FailedCount + s.FailedCount,
                    LastFailedWal = s.LastFailedTime > status.LastFailedTime || status.LastFailedTime is null ? s.LastFailedWal ?? status.LastFailedWal : status.LastFailedWal,
                    LastFailedTime = new[] { status.LastFailedTime, s.LastFailedTime }.Max(),
                };
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // A member that does not answer is the HA controller's to replace; its WAL is measured again once it does.
            }
        }

        var now = time.GetUtcNow();
        var pendingBytes = status.PendingSegments * status.SegmentBytes;
        long? free = null;
        try
        {
            free = new DriveInfo(context.Paths.DataDir).AvailableFreeSpace;
        }
        catch (IOException)
        {
        }

        string? behind = null;
        if (status.ArchiveModeOn && status.PendingSegments > 0)
        {
            var waited = status.OldestPendingSince is { } since ? now - since : TimeSpan.Zero;
            if (waited > settings.LagAlert)
            {
                behind = $"{status.PendingSegments} WAL segment(s) wait to be archived, the oldest for {waited.TotalSeconds:0} s (alert after {settings.LagAlert.TotalSeconds:0} s)";
            }
            else if (free is { } f && pendingBytes > f * settings.DiskAlertFraction)
            {
                behind = $"{pendingBytes / 1048576} MiB of WAL wait to be archived, more than {settings.DiskAlertFraction:P0} of the {f / 1048576} MiB free";
            }
        }

        var previous = Latest(instance.Id);
        var incidentId = previous?.IncidentId ?? (await OpenIncidentAsync(instance.Id, cancellationToken))?.Id;
        if (behind is not null)
        {
            incidentId = await RaiseAsync(instance.Id, incidentId, behind, status, now, cancellationToken);
        }
        else if (incidentId is not null && status.PendingSegments <= 1)
        {
            await ResolveAsync(instance.Id, incidentId, now, cancellationToken);
            incidentId = null;
        }

        var measured = new Measured(status, now, free, incidentId);
        _latest[instance.Id] = measured;
        return measured;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.Enabled)
        {
            return;
        }

        await RefreshHelpersAsync(stoppingToken);
        using var timer = new PeriodicTimer(settings.MonitorInterval, time);
        do
        {
            foreach (var instance in await store.ListInstancesAsync(stoppingToken))
            {
                try
                {
                    await MeasureAsync(instance, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    WalLog.MonitorFailed(logger, instance.Id, ex.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task RefreshHelpersAsync(CancellationToken cancellationToken)
    {
        foreach (var instance in await store.ListInstancesAsync(cancellationToken))
        {
            if (engines.Unavailable(instance.ServiceId) is null
                && engines.Engine(instance.ServiceId) is PostgreSqlEngine { WalOptions: { } options } && instance.Port is not null)
            {
                try
                {
                    // The single server's helper, or each live member's (an ha instance's own config/ archives nothing).
                    foreach (var holder in (await servers.SecretHoldersAsync(instance, cancellationToken)).Skip(engines.HighlyAvailable(instance) ? 1 : 0))
                    {
                        if (Directory.Exists(holder.Paths.ConfigDir))
                        {
                            await WalHelper.WriteFilesAsync(holder, options, cancellationToken);
                        }
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // One instance's helper must not keep the monitor (and with it the broker) from starting.
                    WalLog.MonitorFailed(logger, instance.Id, ex.Message);
                }
            }
        }
    }

    private async Task<Incident?> OpenIncidentAsync(string instanceId, CancellationToken cancellationToken) =>
        (await store.ListIncidentsAsync(instanceId, cancellationToken)).FirstOrDefault(i => i.Class == FailureClass.WalArchiveBehind && i.State == IncidentState.Open);

    private async Task<string> RaiseAsync(string instanceId, string? incidentId, string detail, WalStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var failure = archive.LastFailure(instanceId);
        var evidence = new Dictionary<string, object?>
        {
            ["pending_segments"] = status.PendingSegments,
            ["oldest_pending_since"] = status.OldestPendingSince,
            ["last_archived_wal"] = status.LastArchivedWal,
            ["last_archived_time"] = status.LastArchivedTime,
            ["failed_count"] = status.FailedCount,
            ["last_failed_wal"] = status.LastFailedWal,
            ["last_failed_time"] = status.LastFailedTime,
            ["broker_reason"] = failure?.Reason,
        };
        if (incidentId is not null && await store.GetIncidentAsync(incidentId, cancellationToken) is { State: IncidentState.Open } open)
        {
            await store.SaveIncidentAsync(open with { Evidence = evidence, Summary = $"wal-archive-behind: {detail}", UpdatedAt = now }, cancellationToken);
            return open.Id;
        }

        var incident = new Incident
        {
            Id = "inc-" + Secrets.Token(12),
            InstanceId = instanceId,
            Class = FailureClass.WalArchiveBehind,
            State = IncidentState.Open,
            Summary = $"wal-archive-behind: {detail}",
            Evidence = evidence,
            OpenedAt = now,
            UpdatedAt = now,
        }.With(now, "detected", detail + (failure is null ? string.Empty : $"; the broker could not store {failure.File}: {failure.Reason}"));
        await store.SaveIncidentAsync(incident, cancellationToken);
        WalLog.Behind(logger, instanceId, detail, incident.Id);
        return incident.Id;
    }

    private async Task ResolveAsync(string instanceId, string incidentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await store.GetIncidentAsync(incidentId, cancellationToken) is { State: IncidentState.Open } open)
        {
            await store.SaveIncidentAsync(open.With(now, "resolved", "every completed segment is archived again") with { State = IncidentState.Resolved }, cancellationToken);
            WalLog.CaughtUp(logger, instanceId, incidentId);
        }
    }

    /// <summary>One measurement: the server's view, when, the free disk and the open incident.</summary>
    internal sealed record Measured(WalStatus Status, DateTimeOffset At, long? FreeBytes, string? IncidentId);
}

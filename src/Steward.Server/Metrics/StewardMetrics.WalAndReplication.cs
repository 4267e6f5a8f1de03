using Prometheus;

namespace Steward.Server.Metrics;

/// <summary>
/// The extension point for WAL archiving and high availability: those features call these methods as
/// things happen; the series exist only for instances that archive or replicate.
/// </summary>
internal sealed partial class StewardMetrics
{
    private Gauge _walLastArchived = null!;
    private Gauge _walArchiveLag = null!;
    private Gauge _walPending = null!;
    private Counter _walFailures = null!;
    private Counter _walRestored = null!;
    private Gauge _replicationLag = null!;
    private Counter _failovers = null!;

    /// <summary>A WAL segment of the instance reached the archive at <paramref name="archivedAt"/>.</summary>
    public void WalArchived(string instanceId, DateTimeOffset archivedAt)
    {
        _walLastArchived.WithLabels(instanceId).Set(archivedAt.ToUnixTimeMilliseconds() / 1000.0);
        _walFailures.WithLabels(instanceId);
    }

    /// <summary>Archiving a WAL segment of the instance failed.</summary>
    public void WalArchiveFailed(string instanceId) => _walFailures.WithLabels(instanceId).Inc();

    /// <summary>How far archiving is behind: segments waiting and the age of the oldest one.</summary>
    public void WalArchiveLag(string instanceId, int pendingSegments, TimeSpan oldestPendingAge)
    {
        _walPending.WithLabels(instanceId).Set(pendingSegments);
        _walArchiveLag.WithLabels(instanceId).Set(Math.Max(0, oldestPendingAge.TotalSeconds));
    }

    /// <summary>A WAL file was served to the instance's restore_command, from the read-ahead spool or straight from storage.</summary>
    public void WalRestored(string instanceId, string source) => _walRestored.WithLabels(instanceId, source).Inc();

    /// <summary>Replication lag of one standby member (member names are per-instance and few).</summary>
    public void ReplicationLag(string instanceId, string member, long bytes) => _replicationLag.WithLabels(instanceId, member).Set(bytes);

    /// <summary>The instance's primary changed (a standby was promoted).</summary>
    public void Failover(string instanceId) => _failovers.WithLabels(instanceId).Inc();

    private void CreateWalAndReplication(IMetricFactory f)
    {
        _walLastArchived = f.CreateGauge("steward_wal_last_archived_timestamp_seconds", "When the newest WAL segment reached the archive (Unix time).", new GaugeConfiguration { LabelNames = ["instance_id"] });
        _walArchiveLag = f.CreateGauge("steward_wal_archive_lag_seconds", "Age of the oldest WAL segment waiting to be archived (0 when none waits).", new GaugeConfiguration { LabelNames = ["instance_id"] });
        _walPending = f.CreateGauge("steward_wal_archive_pending_segments", "WAL segments waiting to be archived.", new GaugeConfiguration { LabelNames = ["instance_id"] });
        _walFailures = f.CreateCounter("steward_wal_archive_failures_total", "Failed attempts to archive a WAL segment.", new CounterConfiguration { LabelNames = ["instance_id"] });
        _walRestored = f.CreateCounter("steward_wal_restore_files_total", "WAL files served to a recovering server's restore_command, by where they came from: the read-ahead spool or storage.", new CounterConfiguration { LabelNames = ["instance_id", "source"] });
        _replicationLag = f.CreateGauge("steward_replication_lag_bytes", "How far a standby's replay is behind its primary, in bytes of WAL.", new GaugeConfiguration { LabelNames = ["instance_id", "member"] });
        _failovers = f.CreateCounter("steward_failovers_total", "Promotions of a standby to primary.", new CounterConfiguration { LabelNames = ["instance_id"] });
    }

    private void ForgetWalAndReplication(string instanceId)
    {
        foreach (var collector in new Collector[] { _walLastArchived, _walArchiveLag, _walPending, _walFailures, _walRestored, _replicationLag, _failovers })
        {
            RemoveInstance(collector, instanceId);
        }
    }

    private void RefreshWalAndReplication(IReadOnlySet<string> instanceIds)
    {
        foreach (var gauge in new[] { _walLastArchived, _walArchiveLag, _walPending, _replicationLag })
        {
            foreach (var labels in gauge.GetAllLabelValues().Where(l => !instanceIds.Contains(l[0])).ToList())
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }
}

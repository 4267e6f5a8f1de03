using Prometheus;
using Steward.Rehearsals;

namespace Steward.Server.Metrics;

/// <summary>The last restore rehearsal of each instance: whether it proved the backup restorable, when, and how long the restore took.</summary>
internal sealed partial class StewardMetrics
{
    private Gauge _rehearsalSuccess = null!;
    private Gauge _rehearsalTimestamp = null!;
    private Gauge _rehearsalRestoreSeconds = null!;

    /// <summary>A rehearsal ended (or is the newest one found at start).</summary>
    public void RehearsalFinished(RehearsalRecord rehearsal)
    {
        if (rehearsal.State == RehearsalState.Running || rehearsal.FinishedAt is not { } finished)
        {
            return;
        }

        _rehearsalSuccess.WithLabels(rehearsal.InstanceId).Set(rehearsal.State == RehearsalState.Passed ? 1 : 0);
        _rehearsalTimestamp.WithLabels(rehearsal.InstanceId).Set(finished.ToUnixTimeMilliseconds() / 1000.0);
        if (rehearsal.RestoreSeconds is { } seconds)
        {
            _rehearsalRestoreSeconds.WithLabels(rehearsal.InstanceId).Set(seconds);
        }
    }

    private void CreateRehearsals(IMetricFactory f)
    {
        _rehearsalSuccess = f.CreateGauge("steward_rehearsal_last_success", "1 when the instance's last restore rehearsal proved its backup restorable, 0 when it failed.", new GaugeConfiguration { LabelNames = ["instance_id"] });
        _rehearsalTimestamp = f.CreateGauge("steward_rehearsal_last_timestamp_seconds", "When the instance's last restore rehearsal ended (Unix time).", new GaugeConfiguration { LabelNames = ["instance_id"] });
        _rehearsalRestoreSeconds = f.CreateGauge("steward_rehearsal_last_restore_seconds", "Measured restore time of the instance's last rehearsal: from the start of the restore to a consistent, answering server.", new GaugeConfiguration { LabelNames = ["instance_id"] });
    }

    private void ForgetRehearsals(string instanceId)
    {
        foreach (var collector in new Collector[] { _rehearsalSuccess, _rehearsalTimestamp, _rehearsalRestoreSeconds })
        {
            RemoveInstance(collector, instanceId);
        }
    }
}

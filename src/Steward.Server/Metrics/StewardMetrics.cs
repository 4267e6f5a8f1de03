using Prometheus;
using Steward.Backups;
using Steward.Instances;
using Steward.Operations;
using Steward.Server.Operations;
using Steward.Server.Supervision;
using Steward.Supervision;

namespace Steward.Server.Metrics;

/// <summary>
/// Every Prometheus metric of the broker (listed in docs/observability.md). Counters and histograms are
/// updated as things finish; per-instance gauges are set from <see cref="ObservedState"/> and the health
/// registry when Prometheus scrapes. Labels carry instance ids and small fixed sets (service, plan, kind,
/// outcome, stage, class, status) only, so the series count is bounded per instance.
/// </summary>
internal sealed partial class StewardMetrics
{
    private static readonly string[] Statuses = ["unknown", "healthy", "unhealthy", "failed"];
    private readonly ObservedState _state;
    private readonly HealthRegistry _health;
    private readonly EngineRegistry _engines;
    private readonly TimeProvider _time;

    private readonly Gauge _info;
    private readonly Gauge _created;
    private readonly Gauge _healthState;
    private readonly Gauge _up;
    private readonly Gauge _quarantined;
    private readonly Gauge _openIncidentsPerInstance;
    private readonly Counter _restarts;
    private readonly Gauge _instances;
    private readonly Gauge _openIncidents;
    private readonly Gauge _backups;
    private readonly Gauge _lastSuccess;
    private readonly Gauge _lastSuccessAge;
    private readonly Gauge _lastDuration;
    private readonly Gauge _lastSize;
    private readonly Gauge _backupRunning;
    private readonly Counter _backupRuns;
    private readonly Counter _backupFailures;
    private readonly Counter _bytesIn;
    private readonly Counter _bytesOut;
    private readonly Histogram _backupDuration;
    private readonly Counter _operations;
    private readonly Histogram _operationDuration;

    public StewardMetrics(ObservedState state, HealthRegistry health, EngineRegistry engines, TimeProvider time)
    {
        _state = state;
        _health = health;
        _engines = engines;
        _time = time;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        string[] id = ["instance_id"];
        _info = f.CreateGauge("steward_instance_info", "Always 1 for each instance; its service and plan.", L("instance_id", "service", "plan"));
        _created = f.CreateGauge("steward_instance_created_timestamp_seconds", "When the instance was provisioned (Unix time).", L(id));
        _healthState = f.CreateGauge("steward_instance_health", "1 for the instance's current health status, 0 for the others.", L("instance_id", "status"));
        _up = f.CreateGauge("steward_instance_up", "1 when the latest protocol-level health check passed.", L(id));
        _quarantined = f.CreateGauge("steward_instance_quarantined", "1 when the supervisor fenced the instance (stopped, files preserved).", L(id));
        _openIncidentsPerInstance = f.CreateGauge("steward_instance_open_incidents", "Incidents of the instance that are not resolved.", L(id));
        _restarts = f.CreateCounter("steward_instance_restarts_total", "Restarts the supervisor made since the broker started.", new CounterConfiguration { LabelNames = id });
        _instances = f.CreateGauge("steward_instances", "Instances by lifecycle state.", L("state"));
        _openIncidents = f.CreateGauge("steward_open_incidents", "Unresolved incidents by failure class.", L("class"));
        _backups = f.CreateGauge("steward_backups", "Succeeded backups the instance has in storage.", L(id));
        _lastSuccess = f.CreateGauge("steward_backup_last_success_timestamp_seconds", "When the newest succeeded backup completed (Unix time).", L(id));
        _lastSuccessAge = f.CreateGauge("steward_backup_last_success_age_seconds", "Seconds since the newest succeeded backup completed.", L(id));
        _lastDuration = f.CreateGauge("steward_backup_last_duration_seconds", "How long the newest succeeded backup took.", L(id));
        _lastSize = f.CreateGauge("steward_backup_last_size_bytes", "Stored size of the newest succeeded backup.", L(id));
        _backupRunning = f.CreateGauge("steward_backup_running", "1 while a backup of the instance runs.", L(id));
        _backupRuns = f.CreateCounter("steward_backup_runs_total", "Backups that finished since the broker started, by outcome.", new CounterConfiguration { LabelNames = ["instance_id", "outcome"] });
        _backupFailures = f.CreateCounter("steward_backup_failures_total", "Failed backups by the pipeline stage that failed (source, a filter, storage, broker).", new CounterConfiguration { LabelNames = ["instance_id", "stage"] });
        _bytesIn = f.CreateCounter("steward_backup_read_bytes_total", "Plaintext bytes read from instances by finished backups.", new CounterConfiguration { LabelNames = id });
        _bytesOut = f.CreateCounter("steward_backup_written_bytes_total", "Bytes written to backup storage (after compression and encryption) by finished backups.", new CounterConfiguration { LabelNames = id });
        _backupDuration = f.CreateHistogram("steward_backup_duration_seconds", "Duration of finished backups by service, kind and outcome.", new HistogramConfiguration
        {
            LabelNames = ["service", "kind", "outcome"],
            Buckets = Histogram.ExponentialBuckets(0.25, 2, 14),
        });
        _operations = f.CreateCounter("steward_operations_total", "Operations that ended since the broker started, by kind and outcome.", new CounterConfiguration { LabelNames = ["kind", "outcome"] });
        _operationDuration = f.CreateHistogram("steward_operation_duration_seconds", "Duration of ended operations by kind and outcome.", new HistogramConfiguration
        {
            LabelNames = ["kind", "outcome"],
            Buckets = Histogram.ExponentialBuckets(0.05, 2, 14),
        });
        CreateWalAndReplication(f);
        CreateRehearsals(f);
        Registry.AddBeforeCollectCallback(Refresh);
    }

    public CollectorRegistry Registry { get; }

    public void Restarted(string instanceId, int count) => _restarts.WithLabels(instanceId).Inc(count);

    public void BackupFinished(BackupRecord backup)
    {
        var outcome = backup.State == BackupState.Succeeded ? "succeeded" : "failed";
        _backupRuns.WithLabels(backup.InstanceId, outcome).Inc();
        if (backup.State == BackupState.Failed)
        {
            _backupFailures.WithLabels(backup.InstanceId, Stage(backup.FailedStage)).Inc();
        }

        _bytesIn.WithLabels(backup.InstanceId).Inc(backup.PlaintextBytes);
        _bytesOut.WithLabels(backup.InstanceId).Inc(backup.StoredBytes);
        if (backup.CompletedAt is { } done)
        {
            _backupDuration.WithLabels(backup.Service, backup.Kind, outcome).Observe(Math.Max(0, (done - backup.StartedAt).TotalSeconds));
        }
    }

    public void OperationEnded(Operation op)
    {
        var kind = op.Kind.ToString().ToLowerInvariant();
        var outcome = op.State == OperationState.Succeeded ? "succeeded" : "failed";
        _operations.WithLabels(kind, outcome).Inc();
        _operationDuration.WithLabels(kind, outcome).Observe(Math.Max(0, (op.UpdatedAt - op.CreatedAt).TotalSeconds));
    }

    /// <summary>An instance is gone: its series disappear from the next scrape.</summary>
    public void Forget(string instanceId)
    {
        foreach (var collector in new Collector[] { _restarts, _backupRuns, _backupFailures, _bytesIn, _bytesOut })
        {
            RemoveInstance(collector, instanceId);
        }

        ForgetWalAndReplication(instanceId);
        ForgetRehearsals(instanceId);
    }

    // Stage names come from code, never from users: the source tool (pg_dump, pg_basebackup, redis-cli), the
    // filters (zstd, gzip, age), the storage (filesystem, s3) and the broker's own (broker, manifest). A name
    // that does not look like one is folded, so the label cannot grow without bound.
    private static string Stage(string? stage) =>
        stage is { Length: > 0 and <= 32 } && stage.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-') ? stage : "other";

    private void Refresh()
    {
        var now = _time.GetUtcNow();
        var instances = _state.Instances.Values.Where(i => i.State != InstanceState.Deleted).ToList();
        var ids = instances.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        var values = new Dictionary<Gauge, Dictionary<string[], double>>();
        void Set(Gauge g, double v, params string[] labels)
        {
            if (!values.TryGetValue(g, out var d))
            {
                values[g] = d = new Dictionary<string[], double>(LabelsComparer.Instance);
            }

            d[labels] = v;
        }

        var openByInstance = _state.OpenIncidents.Values.GroupBy(i => i.InstanceId).ToDictionary(g => g.Key, g => g.Count());
        var backupsByInstance = _state.Backups.Values.GroupBy(b => b.InstanceId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var instance in instances)
        {
            var (service, plan) = Names(instance);
            Set(_info, 1, instance.Id, service, plan);
            Set(_created, instance.CreatedAt.ToUnixTimeMilliseconds() / 1000.0, instance.Id);
            var status = instance.State == InstanceState.Quarantined ? HealthStatus.Failed : _health.Get(instance.Id)?.Status ?? HealthStatus.Unknown;
            foreach (var s in Statuses)
            {
                Set(_healthState, s == status.ToString().ToLowerInvariant() ? 1 : 0, instance.Id, s);
            }

            Set(_up, status == HealthStatus.Healthy ? 1 : 0, instance.Id);
            Set(_quarantined, instance.State == InstanceState.Quarantined ? 1 : 0, instance.Id);
            Set(_openIncidentsPerInstance, openByInstance.GetValueOrDefault(instance.Id), instance.Id);
            _restarts.WithLabels(instance.Id);
            _bytesIn.WithLabels(instance.Id);
            _bytesOut.WithLabels(instance.Id);

            var backups = backupsByInstance.GetValueOrDefault(instance.Id) ?? [];
            var succeeded = backups.Where(b => b.State == BackupState.Succeeded && b.CompletedAt is not null).ToList();
            Set(_backups, succeeded.Count, instance.Id);
            Set(_backupRunning, backups.Any(b => b.State == BackupState.InProgress) ? 1 : 0, instance.Id);
            if (succeeded.MaxBy(b => b.CompletedAt) is { CompletedAt: { } completed } last)
            {
                Set(_lastSuccess, completed.ToUnixTimeMilliseconds() / 1000.0, instance.Id);
                Set(_lastSuccessAge, Math.Max(0, (now - completed).TotalSeconds), instance.Id);
                Set(_lastDuration, (completed - last.StartedAt).TotalSeconds, instance.Id);
                Set(_lastSize, last.StoredBytes, instance.Id);
            }
        }

        foreach (var state in Enum.GetValues<InstanceState>().Where(s => s != InstanceState.Deleted))
        {
            Set(_instances, instances.Count(i => i.State == state), state.ToString().ToLowerInvariant());
        }

        var byClass = _state.OpenIncidents.Values.Where(i => ids.Contains(i.InstanceId)).GroupBy(i => i.Class).ToDictionary(g => g.Key, g => g.Count());
        foreach (var c in Enum.GetValues<FailureClass>())
        {
            Set(_openIncidents, byClass.GetValueOrDefault(c), c.Name());
        }

        foreach (var gauge in new[] { _info, _created, _healthState, _up, _quarantined, _openIncidentsPerInstance, _instances, _openIncidents, _backups, _lastSuccess, _lastSuccessAge, _lastDuration, _lastSize, _backupRunning })
        {
            Replace(gauge, values.GetValueOrDefault(gauge));
        }

        RefreshWalAndReplication(ids);
    }

    private (string Service, string Plan) Names(ObservedState.InstanceView instance)
    {
        try
        {
            var engine = _engines.Engine(instance.ServiceId);
            return (engine.Offering.Name, engine.Offering.FindPlan(instance.PlanId)?.Name ?? "unknown");
        }
        catch (Errors.StewardException)
        {
            return ("unknown", "unknown");
        }
    }

    private static void Replace(Gauge gauge, Dictionary<string[], double>? values)
    {
        foreach (var labels in gauge.GetAllLabelValues().ToList())
        {
            if (values is null || !values.ContainsKey(labels))
            {
                gauge.RemoveLabelled(labels);
            }
        }

        foreach (var (labels, value) in values ?? [])
        {
            gauge.WithLabels(labels).Set(value);
        }
    }

    private static void RemoveInstance(Collector collector, string instanceId)
    {
        switch (collector)
        {
            case Counter c:
                foreach (var labels in c.GetAllLabelValues().Where(l => l[0] == instanceId).ToList())
                {
                    c.RemoveLabelled(labels);
                }

                break;
            case Gauge g:
                foreach (var labels in g.GetAllLabelValues().Where(l => l[0] == instanceId).ToList())
                {
                    g.RemoveLabelled(labels);
                }

                break;
        }
    }

    private static GaugeConfiguration L(params string[] labels) => new() { LabelNames = labels };

    private sealed class LabelsComparer : IEqualityComparer<string[]>
    {
        public static readonly LabelsComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] obj)
        {
            var hash = default(HashCode);
            foreach (var s in obj)
            {
                hash.Add(s, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }
}

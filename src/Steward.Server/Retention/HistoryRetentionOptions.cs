using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Retention;

/// <summary>How long finished operations and closed incidents stay in the state database (docs/state-retention.md).</summary>
[SettingsSection("Retention")]
internal sealed record HistoryRetentionOptions
{
    [Setting("STEWARD_RETENTION_OPERATIONS_DAYS", "finished operations (succeeded or failed) older than this are deleted from the state database, except each instance's and binding's latest, which last_operation answers from; 0 keeps them all")]
    [Range(0, 36_600)]
    public int OperationsDays { get; init; } = 90;

    [Setting("STEWARD_RETENTION_INCIDENTS_DAYS", "resolved incidents, and any incident of a deleted instance, last updated longer ago than this are deleted; open and quarantined incidents of live instances are kept; 0 keeps them all")]
    [Range(0, 36_600)]
    public int IncidentsDays { get; init; } = 180;

    [Setting("STEWARD_RETENTION_SWEEP_SECONDS", "how often the state database is pruned by the two settings above")]
    [Range(1, 86_400)]
    public int SweepSeconds { get; init; } = 3600;
}

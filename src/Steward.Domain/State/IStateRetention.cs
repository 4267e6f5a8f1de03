namespace Steward.State;

/// <summary>Removes history that retention no longer keeps (docs/state-retention.md).</summary>
public interface IStateRetention
{
    /// <summary>
    /// Deletes finished operations last updated before <paramref name="operationsBefore"/> (except each instance's and
    /// each binding's latest, which last_operation answers from) and resolved incidents, or any incident of a deleted
    /// instance, last updated before <paramref name="incidentsBefore"/>. A null cutoff keeps that kind. Returns how
    /// many of each were deleted.
    /// </summary>
    Task<(int Operations, int Incidents)> PruneHistoryAsync(DateTimeOffset? operationsBefore, DateTimeOffset? incidentsBefore, CancellationToken cancellationToken);
}

namespace Steward.Server.Backups.Retention;

/// <summary>
/// Something that keeps data tied to an instance's backups, such as the WAL archive. Register it as a
/// singleton <see cref="IRetentionParticipant"/>; retention asks it before deleting and tells it afterwards.
/// </summary>
internal interface IRetentionParticipant
{
    /// <summary>Backups of <paramref name="instanceId"/> that must not be deleted now (e.g. the base of a restore in progress).</summary>
    Task<IReadOnlySet<string>> ProtectedBackupsAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Called after each retention pass of an instance, also when nothing was deleted. Data that only
    /// backups older than <see cref="RetentionOutcome.OldestKeptBase"/> needed (WAL before its start) can go.
    /// </summary>
    Task AfterPruneAsync(RetentionOutcome outcome, CancellationToken cancellationToken);
}

using Steward.Rehearsals;

namespace Steward.State;

/// <summary>Restore rehearsals, durable when the task completes. Both state stores implement it beside <see cref="IStateStore"/>.</summary>
public interface IRehearsalStore
{
    Task SaveRehearsalAsync(RehearsalRecord rehearsal, CancellationToken cancellationToken);

    Task<RehearsalRecord?> GetRehearsalAsync(string id, CancellationToken cancellationToken);

    /// <summary>One instance's rehearsals (or every instance's), newest first.</summary>
    Task<IReadOnlyList<RehearsalRecord>> ListRehearsalsAsync(string? instanceId, CancellationToken cancellationToken);
}

namespace Steward.Rehearsals;

/// <summary>Where a restore rehearsal is.</summary>
public enum RehearsalState
{
    /// <summary>Restoring into the sandbox or checking it.</summary>
    Running,

    /// <summary>Every check passed: the backup is proven restorable.</summary>
    Passed,

    /// <summary>A check failed, the restore failed, or the broker stopped mid-way (the sandbox was then removed).</summary>
    Failed,
}

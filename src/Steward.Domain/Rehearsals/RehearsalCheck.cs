namespace Steward.Rehearsals;

/// <summary>
/// One acceptance check of a rehearsal and what it saw. <see cref="Passed"/> is null when the check did not apply
/// (for example data checksums on a backup of a cluster created without them); <see cref="Evidence"/> says why.
/// </summary>
public sealed record RehearsalCheck(string Name, bool? Passed, string Evidence)
{
    /// <summary>Machine-readable detail (per-table counts, tool output lines), small.</summary>
    public IReadOnlyDictionary<string, object?>? Details { get; init; }

    public static RehearsalCheck Pass(string name, string evidence) => new(name, true, evidence);

    public static RehearsalCheck Fail(string name, string evidence) => new(name, false, evidence);

    public static RehearsalCheck Skipped(string name, string evidence) => new(name, null, evidence);
}

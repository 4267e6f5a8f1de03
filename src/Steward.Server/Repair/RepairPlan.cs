namespace Steward.Server.Repair;

/// <summary>
/// What a repair replaces in one file of the live instance: the damaged 8 KiB blocks (numbered within the file), or
/// the whole file where its pages cannot be isolated (a cluster without data checksums).
/// </summary>
internal sealed record RepairItem(string Database, string? Relation, string File, IReadOnlyList<long> Blocks, bool WholeFile, long Bytes, string Why);

/// <summary>
/// A repair decided before anything changes: the damage, where it was found, the base backup and WAL the copy is
/// built from, and what will be replaced (pages and bytes). A dry run answers with it.
/// </summary>
internal sealed record RepairPlan(
    string InstanceId,
    string BackupId,
    string BaseStopLsn,
    int Timeline,
    IReadOnlyList<RepairItem> Items,
    long Bytes,
    string FoundBy,
    string? FromIncident,
    int ArchivedSegments,
    int UnarchivedSegments,
    string LiveLsn,
    IReadOnlyList<string> Evidence)
{
    public int Pages => Items.Where(i => !i.WholeFile).Sum(i => i.Blocks.Count);

    public int WholeFiles => Items.Count(i => i.WholeFile);

    public string Describe() =>
        $"{Pages} damaged page(s){(WholeFiles > 0 ? $" and {WholeFiles} whole file(s)" : string.Empty)}, {Bytes} bytes, in {string.Join("; ", Items.Select(i => $"{i.Relation ?? "an unknown relation"} in database {i.Database} (file {i.File}{(i.WholeFile ? ", whole file" : $", block{(i.Blocks.Count == 1 ? string.Empty : "s")} {string.Join(", ", i.Blocks)}")})"))}";
}

/// <summary>A repair operation's payload: the plan, the incident it is recorded in, and the copy's sandbox.</summary>
internal sealed record RepairPayload(RepairPlan Plan, string IncidentId, string Sandbox, int SandboxPort, string PreservedName);

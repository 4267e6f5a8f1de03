namespace Steward.Rehearsals;

/// <summary>
/// One restore rehearsal: a backup restored into an isolated sandbox beside the live instance, checked, and
/// (unless kept) removed. Durable from its first step, so a broker that dies mid-way finds the sandbox at its next
/// start, removes it and records the rehearsal failed.
/// </summary>
public sealed record RehearsalRecord
{
    public required string Id { get; init; }

    public required string InstanceId { get; init; }

    public required RehearsalState State { get; init; }

    /// <summary>The backup restored; for a point-in-time target, the base backup the replay started from.</summary>
    public required string BackupId { get; init; }

    /// <summary>What the sandbox was restored to, in words ("the end of backup …", "time 2026-…").</summary>
    public required string Target { get; init; }

    /// <summary>The sandbox's internal id (its directory under the instances' root).</summary>
    public required string Sandbox { get; init; }

    /// <summary>The sandbox server's loopback port, once allocated.</summary>
    public int? Port { get; init; }

    /// <summary>Keep the sandbox's files after the checks (removed by retention later).</summary>
    public bool Keep { get; init; }

    /// <summary>The step being run or last run.</summary>
    public string? Step { get; init; }

    /// <summary>Seconds from the start of the restore to a consistent, answering server: the instance's measured recovery time.</summary>
    public double? RestoreSeconds { get; init; }

    /// <summary>Seconds the whole rehearsal took, checks included.</summary>
    public double? TotalSeconds { get; init; }

    /// <summary>The checks run, in order.</summary>
    public IReadOnlyList<RehearsalCheck> Checks { get; init; } = [];

    /// <summary>Sizes and resource use (restored bytes, data directory size, WAL fetched, CPU seconds).</summary>
    public IReadOnlyDictionary<string, object?> Measurements { get; init; } = new Dictionary<string, object?>();

    /// <summary>One line: what was proven, or why not.</summary>
    public string? Summary { get; init; }

    /// <summary>The incident opened when the rehearsal failed.</summary>
    public string? IncidentId { get; init; }

    /// <summary>The developer's own check, as submitted (SQL, or Redis key patterns).</summary>
    public string? CheckFile { get; init; }

    /// <summary>Who asked (the originating identity, or "schedule").</summary>
    public string? RequestedBy { get; init; }

    /// <summary>Where the kept sandbox is, while it exists.</summary>
    public string? KeptPath { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }
}

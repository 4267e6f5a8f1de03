namespace Steward.Wal;

/// <summary>
/// One archived WAL file of an instance: a segment, a partial segment left at a promotion, a timeline history
/// file or a backup history file. Recorded only once its object and manifest are durably stored.
/// </summary>
public sealed record WalFile
{
    public required string InstanceId { get; init; }

    /// <summary>The file name PostgreSQL gave it (<c>000000010000000000000003</c>, <c>00000002.history</c>, ...).</summary>
    public required string Name { get; init; }

    public required string Key { get; init; }

    public long PlaintextBytes { get; init; }

    public long StoredBytes { get; init; }

    public required string PlaintextDigest { get; init; }

    public required string StoredSha256 { get; init; }

    public required DateTimeOffset ArchivedAt { get; init; }

    /// <summary>The newest commit time in a segment, once read (cached: it never changes).</summary>
    public DateTimeOffset? LastCommitAt { get; init; }

    /// <summary>Whether <see cref="LastCommitAt"/> was looked for (a segment may have no commit at all).</summary>
    public bool CommitsRead { get; init; }

    /// <summary>The content of a timeline history file; null for the others.</summary>
    public string? History { get; init; }

    public WalName Parsed => WalName.Parse(Name) ?? throw new InvalidOperationException($"'{Name}' is not a WAL file name");
}

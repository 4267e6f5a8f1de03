namespace Steward.Backups;

/// <summary>
/// Which succeeded backups to keep, with restic <c>forget</c> semantics: the newest <see cref="KeepLast"/>,
/// and the newest backup of each of the last <see cref="KeepDaily"/> days, <see cref="KeepWeekly"/> ISO weeks
/// and <see cref="KeepMonthly"/> months that have one. A backup kept by any rule is kept; pinned backups are
/// always kept. Null everywhere means no retention: nothing is deleted.
/// </summary>
public sealed record RetentionPolicy
{
    public int? KeepLast { get; init; }

    public int? KeepDaily { get; init; }

    public int? KeepWeekly { get; init; }

    public int? KeepMonthly { get; init; }

    public static RetentionPolicy None { get; } = new();

    public bool IsNone => KeepLast is null && KeepDaily is null && KeepWeekly is null && KeepMonthly is null;
}

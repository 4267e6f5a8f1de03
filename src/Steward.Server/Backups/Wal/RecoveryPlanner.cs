using System.Globalization;
using Steward.Backup.Manifest;
using Steward.Backups;
using Steward.Engines.PostgreSql.Wal;
using Steward.Errors;
using Steward.Server.Configuration;
using Steward.State;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// What a PostgreSQL instance can be restored to: per timeline, from the oldest base backup whose WAL chain is
/// complete to the last archived commit; and, for one target, the base backup and recovery settings that reach it.
/// A target it cannot reach is refused with the reason, before anything is changed.
/// </summary>
internal sealed class RecoveryPlanner(IStateStore store, IWalCatalog catalog, WalArchive archive, WalInspector inspector, StewardOptions options)
{
    /// <summary>Segments read back, at most, to find the last archived commit.</summary>
    private const int CommitSearchDepth = 64;

    public async Task<RecoveryWindow> WindowAsync(string instanceId, CancellationToken cancellationToken)
    {
        var (timelines, bases) = await LoadAsync(instanceId, cancellationToken);
        return await WindowOfAsync(instanceId, timelines, bases, timelines.Current, cancellationToken);
    }

    /// <summary>Every timeline's window, newest first.</summary>
    public async Task<IReadOnlyList<RecoveryWindow>> WindowsAsync(string instanceId, CancellationToken cancellationToken)
    {
        var (timelines, bases) = await LoadAsync(instanceId, cancellationToken);
        var windows = new List<RecoveryWindow>();
        foreach (var t in timelines.All.OrderDescending())
        {
            windows.Add(await WindowOfAsync(instanceId, timelines, bases, t, cancellationToken));
        }

        return windows;
    }

    /// <summary>The base backup and recovery settings for a target; 400 with the reason when it cannot be reached.</summary>
    public async Task<PointInTimePayload> PlanAsync(string instanceId, RecoveryTarget target, CancellationToken cancellationToken)
    {
        var (timelines, bases) = await LoadAsync(instanceId, cancellationToken);
        if (bases.Count == 0)
        {
            throw StewardException.BadRequest($"instance {instanceId} has no succeeded physical backup to start a point-in-time restore from; take one with: steward backup create {instanceId}");
        }

        switch (target.Kind)
        {
            case RecoveryTargetKind.Latest:
            {
                var w = await WindowOfAsync(instanceId, timelines, bases, timelines.Current, cancellationToken);
                var b = w.Base ?? throw NoChain(instanceId, timelines.Current);
                return Payload(b, target, timelines.Current, [], $"the latest archived state (WAL up to {Lsn.Format(w.LatestLsn)}, last commit {w.Latest:u})") with { Point = w.Latest };
            }

            case RecoveryTargetKind.Time:
            {
                var at = target.Time!.Value;
                var timeline = timelines.LiveAt(at);
                var w = await WindowOfAsync(instanceId, timelines, bases, timeline, cancellationToken);
                if (w.Base is null || w.Earliest is not { } earliest || w.Latest is not { } latest)
                {
                    throw NoChain(instanceId, timeline);
                }

                if (at < earliest)
                {
                    throw StewardException.BadRequest($"{Iso(at)} is before the earliest recoverable time {Iso(earliest)} of instance {instanceId} (the end of its oldest base backup with a complete WAL chain, {w.EarliestBase!.Id})");
                }

                var candidates = bases.Where(b => b.Completed <= at && timelines.OnPath(timeline, b.Timeline, b.StopLsn) && timelines.ChainEnd(timeline, b.StopSegment) >= w.EndSegment).ToList();
                var start = candidates.MaxBy(b => b.Completed) ?? w.EarliestBase!;
                if (at > latest && timeline == timelines.Current)
                {
                    throw StewardException.BadRequest($"{Iso(at)} is after the latest recoverable time {Iso(latest)} of instance {instanceId} (its last archived commit); newer writes are archived within archive_timeout: retry then, or restore to --latest");
                }

                if (at >= latest)
                {

                    // Nothing committed on that timeline between its last archived commit and the target: its end is the state at the target.
                    return Payload(start, target, timeline, new() { ["recovery_target_timeline"] = Num(timeline) }, $"{Iso(at)} on timeline {timeline} (its end: nothing was committed on it after {Iso(latest)})") with { Point = at };
                }

                return Payload(start, target, timeline, new()
                {
                    ["recovery_target_time"] = at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture),
                    ["recovery_target_inclusive"] = "on",
                    ["recovery_target_timeline"] = Num(timeline),
                }, $"{Iso(at)} on timeline {timeline}") with { Point = at };
            }

            case RecoveryTargetKind.Lsn:
            {
                var lsn = Lsn.Parse(target.Lsn!);
                var timeline = timelines.Current;
                var w = await WindowOfAsync(instanceId, timelines, bases, timeline, cancellationToken);
                var start = bases.Where(b => b.StopLsn <= lsn && timelines.OnPath(timeline, b.Timeline, b.StopLsn) && timelines.ChainEnd(timeline, b.StopSegment) >= w.EndSegment).MaxBy(b => b.StopLsn);
                if (start is null)
                {
                    throw StewardException.BadRequest($"LSN {target.Lsn} is before the earliest recoverable LSN {(w.Base is { } eb ? Lsn.Format(w.EarliestBase!.StopLsn) : "(none)")} of instance {instanceId} on timeline {timeline}");
                }

                if (lsn > w.LatestLsn)
                {
                    throw StewardException.BadRequest($"LSN {target.Lsn} is after the latest archived LSN {Lsn.Format(w.LatestLsn)} of instance {instanceId} on timeline {timeline}; newer WAL is archived within archive_timeout");
                }

                return Payload(start, target, timeline, new() { ["recovery_target_lsn"] = Lsn.Format(lsn), ["recovery_target_inclusive"] = "on", ["recovery_target_timeline"] = Num(timeline) }, $"LSN {Lsn.Format(lsn)} on timeline {timeline}");
            }

            default:
            {
                var point = (await catalog.ListRestorePointsAsync(instanceId, cancellationToken)).FirstOrDefault(p => p.Name == target.RestorePoint)
                    ?? throw StewardException.BadRequest($"instance {instanceId} has no restore point '{target.RestorePoint}'; create one with: steward restore-point create {instanceId} <name>");
                var lsn = Lsn.Parse(point.Lsn);
                var w = await WindowOfAsync(instanceId, timelines, bases, point.Timeline, cancellationToken);
                if (lsn > w.LatestLsn)
                {
                    throw StewardException.BadRequest($"restore point '{point.Name}' (LSN {point.Lsn}) is not archived yet; it is within archive_timeout, retry shortly");
                }

                var start = bases.Where(b => b.StopLsn <= lsn && timelines.OnPath(point.Timeline, b.Timeline, b.StopLsn) && timelines.ChainEnd(point.Timeline, b.StopSegment) >= WalName.SegmentOf(point.Lsn)).MaxBy(b => b.StopLsn)
                    ?? throw StewardException.BadRequest($"restore point '{point.Name}' ({point.CreatedAt:u}) is older than every base backup of instance {instanceId} with a complete WAL chain");
                return Payload(start, target, point.Timeline, new() { ["recovery_target_name"] = point.Name, ["recovery_target_timeline"] = Num(point.Timeline) }, $"restore point '{point.Name}' (LSN {point.Lsn}, {Iso(point.CreatedAt)})");
            }
        }
    }

    private static PointInTimePayload Payload(BaseBackup start, RecoveryTarget target, int timeline, Dictionary<string, string> settings, string description) =>
        new(start.Id, target.Describe(), timeline, settings, description);

    private static StewardException NoChain(string instanceId, int timeline) =>
        StewardException.BadRequest($"instance {instanceId} has no base backup on timeline {timeline} followed by a complete WAL chain; take a backup with: steward backup create {instanceId}");

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private async Task<(WalTimelines Timelines, List<BaseBackup> Bases)> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        var timelines = new WalTimelines(await catalog.ListWalFilesAsync(instanceId, cancellationToken));
        var bases = new List<BaseBackup>();
        foreach (var b in await store.ListBackupsAsync(instanceId, cancellationToken))
        {
            if (BaseOf(b) is { } found)
            {
                bases.Add(found);
            }
        }

        return (timelines, bases);
    }

    /// <summary>A succeeded physical backup with the timeline and stop LSN its manifest records; null for any other backup.</summary>
    public static BaseBackup? BaseOf(BackupRecord b)
    {
        if (b is { State: BackupState.Succeeded, Kind: "physical" or "incremental", ManifestJson: { } json, CompletedAt: { } completed })
        {
            var p = ManifestStore.Deserialize(System.Text.Encoding.UTF8.GetBytes(json)).Properties;
            if (p.TryGetValue("stop_lsn", out var stop) && Lsn.TryParse(stop, out var stopLsn) && p.TryGetValue("timeline", out var tli) && int.TryParse(tli, CultureInfo.InvariantCulture, out var timeline))
            {
                return new BaseBackup(b.Id, timeline, stopLsn, completed);
            }
        }

        return null;
    }

    private async Task<RecoveryWindow> WindowOfAsync(string instanceId, WalTimelines timelines, List<BaseBackup> bases, int timeline, CancellationToken cancellationToken)
    {
        var usable = bases.Where(b => timelines.OnPath(timeline, b.Timeline, b.StopLsn)).OrderBy(b => b.Completed).ToList();

        // The WAL of a path ends at its first gap after the newest base backup (earlier gaps only disqualify older backups).
        var newest = usable.LastOrDefault();
        var end = newest is null ? -1 : timelines.ChainEnd(timeline, newest.StopSegment);
        var complete = usable.Where(b => timelines.ChainEnd(timeline, b.StopSegment) >= end).ToList();
        var earliest = complete.FirstOrDefault();
        var latestLsn = Math.Max((end + 1) * WalName.SegmentBytes, newest?.StopLsn ?? 0);
        DateTimeOffset? latest = null;
        if (newest is not null)
        {
            for (var s = end; s >= newest.StopSegment && s > end - CommitSearchDepth && latest is null; s--)
            {
                latest = await LastCommitAsync(timelines.SegmentFile(timeline, s)!, cancellationToken);
            }

            latest ??= newest.Completed;
        }

        return new RecoveryWindow(timeline, timeline == timelines.Current, timelines.StartedAt(timeline), earliest?.Completed, latest is { } l && earliest is { } e && l < e.Completed ? e.Completed : latest, earliest, newest, end, latestLsn);
    }

    private async Task<DateTimeOffset?> LastCommitAsync(WalFile file, CancellationToken cancellationToken)
    {
        if (file.CommitsRead)
        {
            return file.LastCommitAt;
        }

        var scratch = Path.Combine(options.DataDir, "wal-scratch", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var path = Path.Combine(scratch, file.Name);
            await using (var written = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                // Streamed to the file: a 16 MiB segment never sits in the broker's memory.
                await archive.ReadToAsync(file.InstanceId, file.Name, written, cancellationToken);
            }

            var times = await inspector.CommitTimesAsync(path, cancellationToken);
            var last = times.Count == 0 ? (DateTimeOffset?)null : times.Max();
            await catalog.SaveWalFileAsync(file with { LastCommitAt = last, CommitsRead = true }, cancellationToken);
            return last;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>A succeeded physical backup as recovery sees it.</summary>
    internal sealed record BaseBackup(string Id, int Timeline, long StopLsn, DateTimeOffset Completed)
    {
        public long StopSegment => StopLsn / WalName.SegmentBytes;
    }
}

/// <summary>What one timeline of an instance can be restored to.</summary>
internal sealed record RecoveryWindow(
    int Timeline,
    bool Current,
    DateTimeOffset? StartedAt,
    DateTimeOffset? Earliest,
    DateTimeOffset? Latest,
    RecoveryPlanner.BaseBackup? EarliestBase,
    RecoveryPlanner.BaseBackup? Base,
    long EndSegment,
    long LatestLsn);

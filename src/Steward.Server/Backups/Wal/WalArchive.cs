using System.Collections.Concurrent;
using Steward.Backup.Integrity;
using Steward.Backup.Manifest;
using Steward.Backup.Pipeline;
using Steward.Backup.Filters.Age;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// Each PostgreSQL instance's WAL in the backup storage: one object (and manifest) per file, through the same
/// filters as its backups. A file is recorded in the catalog only once object and manifest are durable, and
/// only then acknowledged; restore reads verify both the manifest and the digests Steward recorded.
/// </summary>
internal sealed class WalArchive(
    IWalCatalog catalog,
    BackupSettings settings,
    IBackupStorage storage,
    ILoggerFactory loggers,
    TimeProvider time,
    ILogger<WalArchive> logger)
{
    private readonly ConcurrentDictionary<string, ArchiveFailure> _failures = new();
    private readonly SemaphoreSlim[] _gates = [.. Enumerable.Range(0, 32).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>The top-level prefix of every WAL object, apart from the instances' backups (pgBackRest's archive/ and backup/).</summary>
    public const string Prefix = "archive/";

    /// <summary>
    /// Where one WAL file lives: <c>archive/{instance}/{file}</c>. Backups live under <c>{instance}/</c>, so a listing
    /// or a deletion of an instance's backups never meets its WAL, and pruning the archive never meets a backup.
    /// </summary>
    public static string KeyOf(string instanceId, string name) => $"{Prefix}{instanceId}/{name}";

    /// <summary>The broker-side reason the newest archive attempt of an instance failed, until one succeeds.</summary>
    public ArchiveFailure? LastFailure(string instanceId) => _failures.TryGetValue(instanceId, out var f) ? f : null;

    /// <summary>Stores one WAL file PostgreSQL hands over; returns once it is durable (or says why it is not).</summary>
    public async Task<ArchiveOutcome> StoreAsync(string instanceId, WalName name, Stream body, CancellationToken cancellationToken)
    {
        // The members of an ha instance offer the same file at about the same time: one at a time per name, so the
        // first is stored and the others are compared with it (never two objects racing for one key).
        var gate = _gates[(int)((uint)HashCode.Combine(instanceId, name.Name) % (uint)_gates.Length)];
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await StoreOnceAsync(instanceId, name, body, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<ArchiveOutcome> StoreOnceAsync(string instanceId, WalName name, Stream body, CancellationToken cancellationToken)
    {
        var existing = await catalog.GetWalFileAsync(instanceId, name.Name, cancellationToken);
        if (existing is not null)
        {
            // The same file again (a retry after a lost answer, a restored server archiving what it replayed, or
            // another member of an ha instance) is acknowledged, as pgBackRest's archive-push does; a different file
            // under a name already archived would break the chain, so it is refused (PostgreSQL keeps it and the lag
            // incident shows it). Steward's own restores promote onto a new timeline, so a conflict means a second
            // server writes this timeline.
            using var offered = new MemoryStream();
            await body.CopyToAsync(offered, cancellationToken);
            using var hasher = ContentHasher.ForDigest(existing.PlaintextDigest);
            hasher.Append(offered.GetBuffer().AsSpan(0, (int)offered.Length));
            var digest = hasher.Finish();
            if (ContentHasher.Same(digest, existing.PlaintextDigest))
            {
                return ArchiveOutcome.Stored;
            }

            if (await SameUpToTimelineEndAsync(instanceId, name, offered, cancellationToken) is { } end)
            {
                // A copy of the segment in which its timeline ended (a failover or switchover) from another member:
                // PostgreSQL's walreceiver with archive_mode = always archives it whole, with whatever followed the
                // switch point in the file. It holds the archived file's WAL, and nothing after the switch point is
                // ever replayed on this timeline (the history file says where it ends), so it is acknowledged and not
                // stored again.
                WalLog.EndOfTimelineCopy(logger, instanceId, name.Name, Lsn.Format(end));
                return ArchiveOutcome.Stored;
            }

            return Fail(instanceId, name.Name, ArchiveOutcome.Conflict, $"{name.Name} is already archived for instance {instanceId} with different content (archived {ContentHasher.AlgorithmOf(existing.PlaintextDigest)} {ContentHasher.Short(existing.PlaintextDigest)}, offered {ContentHasher.Short(digest)}): another server is writing timeline {name.Timeline} of this instance, e.g. a copy of its data started outside Steward; the archived file is kept");
        }

        string? history = null;
        if (name.Kind == WalFileKind.History)
        {
            using var reader = new StreamReader(body);
            history = await reader.ReadToEndAsync(cancellationToken);
            body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(history));
        }

        var key = KeyOf(instanceId, name.Name);
        var builder = new BackupPipelineBuilder().UseSource(new StreamSource(body, "archive_command"));
        var pipeline = settings.AddFilters(builder).UseStorage(storage).UseTimeProvider(time).UseLoggerFactory(loggers).Build();
        var result = await pipeline.RunAsync(
            new BackupRequest
            {
                BackupId = name.Name,
                InstanceId = instanceId,
                Engine = "postgresql",
                Key = key,
                Properties = new Dictionary<string, string> { ["wal_file"] = name.Name, ["timeline"] = name.Timeline.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            },
            null,
            cancellationToken);
        if (!result.Succeeded)
        {
            return Fail(instanceId, name.Name, ArchiveOutcome.Failed, $"stage '{result.Failure!.Stage}' ({result.Failure.Kind.ToString().ToLowerInvariant()}): {result.Failure.Message}");
        }

        await catalog.SaveWalFileAsync(
            new WalFile
            {
                InstanceId = instanceId,
                Name = name.Name,
                Key = key,
                PlaintextBytes = result.PlaintextBytes,
                StoredBytes = result.StoredBytes,
                PlaintextDigest = result.PlaintextDigest!,
                StoredSha256 = result.StoredSha256!,
                ArchivedAt = time.GetUtcNow(),
                History = history,
            },
            CancellationToken.None);
        _failures.TryRemove(instanceId, out _);
        return ArchiveOutcome.Stored;
    }

    /// <summary>Reads and verifies one file into memory (history files, a segment's commit times); null when it is not in the catalog.</summary>
    public async Task<byte[]?> ReadAsync(string instanceId, string name, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        return await ReadToAsync(instanceId, name, buffer, cancellationToken) is null ? null : buffer.ToArray();
    }

    /// <summary>
    /// Streams one file's plaintext into <paramref name="destination"/> (storage → filters → destination, no copy
    /// of the whole file in memory), verified against its manifest and against the digest Steward recorded when it
    /// was archived; the record it was verified against, or null when it is not in the catalog. On a failure the
    /// destination holds bytes that must not be used.
    /// </summary>
    public async Task<WalFile?> ReadToAsync(string instanceId, string name, Stream destination, CancellationToken cancellationToken)
    {
        var file = await catalog.GetWalFileAsync(instanceId, name, cancellationToken);
        if (file is null)
        {
            return null;
        }

        var manifest = await ManifestStore.ReadAsync(storage, file.Key, cancellationToken);
        if (!string.Equals(manifest.StoredSha256, file.StoredSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"the manifest of {name} no longer matches the digests Steward recorded when it was archived");
        }

        var pipeline = new RestorePipelineBuilder()
            .UseStorage(storage)
            .UseStreamSink(destination, "restore_command")
            .UseAgeIdentities(settings.Identities)
            .UseTimeProvider(time)
            .UseLoggerFactory(loggers)
            .Build();
        var result = await pipeline.RunAsync(new RestoreRequest(file.Key), null, cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"{name} failed at stage '{result.Failure!.Stage}' ({result.Failure.Kind.ToString().ToLowerInvariant()}): {result.Failure.Message}");
        }

        if (result.PlaintextDigest is not { } restored || !ContentHasher.Same(restored, file.PlaintextDigest))
        {
            throw new InvalidOperationException($"{name} does not match the digest Steward recorded when it was archived");
        }

        return file;
    }

    /// <summary>
    /// Removes WAL no kept base backup needs: every segment, partial segment and backup history file before
    /// <paramref name="oldestNeededSegment"/>, the segment holding the stop LSN of the oldest kept base backup.
    /// Timeline history files stay (they are tiny and recovery needs them to choose a timeline). The catalog row
    /// goes first, so an interrupted prune leaves at worst an unlisted object, never a listed file that is gone;
    /// such leftovers (a prune cut by kill -9 or a storage outage) are swept by the next prune.
    /// </summary>
    public async Task<int> PruneAsync(string instanceId, long oldestNeededSegment, CancellationToken cancellationToken)
    {
        var removed = 0;
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in await catalog.ListWalFilesAsync(instanceId, cancellationToken))
        {
            if (!Prunable(file.Name, oldestNeededSegment))
            {
                listed.Add(file.Key);
                continue;
            }

            await catalog.DeleteWalFileAsync(instanceId, file.Name, cancellationToken);
            await storage.DeleteAsync(ManifestStore.ManifestKey(file.Key), cancellationToken);
            await storage.DeleteAsync(file.Key, cancellationToken);
            removed++;
        }

        // Objects of files no longer listed: left by an interrupted prune. A file being archived right now has its
        // object before its catalog row, so only objects older than a few minutes are taken for leftovers.
        var settled = time.GetUtcNow() - TimeSpan.FromMinutes(10);
        await foreach (var stored in storage.ListAsync(KeyOf(instanceId, string.Empty), cancellationToken))
        {
            var key = stored.Key.EndsWith(BackupManifest.KeySuffix, StringComparison.Ordinal) ? stored.Key[..^BackupManifest.KeySuffix.Length] : stored.Key;
            if (stored.LastModified < settled && !listed.Contains(key) && Prunable(key[(key.LastIndexOf('/') + 1)..], oldestNeededSegment))
            {
                await storage.DeleteAsync(stored.Key, cancellationToken);
            }
        }

        if (removed > 0)
        {
            WalLog.Pruned(logger, instanceId, removed, WalName.SegmentName(1, oldestNeededSegment)[8..]);
        }

        return removed;
    }

    /// <summary>
    /// When <paramref name="name"/> is the segment in which its timeline ended (a later timeline's history says it
    /// was left there) and <paramref name="offered"/> holds the same WAL as the archived copy: the switch point;
    /// otherwise null.
    /// <para>
    /// Inside a segment, the same WAL is the same bytes up to the switch point. At a segment's end (the timeline's
    /// last record was the XLOG_SWITCH that ended this segment) the position of that record is not in the history,
    /// so the copies are compared up to where the shorter one's WAL stops: PostgreSQL (11 and later) writes zeros
    /// after a switch record, while a standby that did not receive all of that padding before its primary died
    /// keeps whatever its (possibly recycled) file held there. The copy whose tail is zeros must be a prefix of
    /// the other. Nothing after the switch record is ever replayed, so either copy serves recovery.
    /// </para>
    /// </summary>
    private async Task<long?> SameUpToTimelineEndAsync(string instanceId, WalName name, MemoryStream offered, CancellationToken cancellationToken)
    {
        if (name.Kind != WalFileKind.Segment)
        {
            return null;
        }

        var timelines = new WalTimelines(await catalog.ListWalFilesAsync(instanceId, cancellationToken));
        long? end = null;
        foreach (var later in timelines.All.Where(t => t > name.Timeline))
        {
            try
            {
                end = timelines.EndOf(later, name.Timeline);
            }
            catch (ArgumentException)
            {
                continue; // a timeline not descended from this one
            }

            if (end is not null)
            {
                break;
            }
        }

        var atSegmentEnd = end is { } e && e % WalName.SegmentBytes == 0 && e / WalName.SegmentBytes - 1 == name.Segment;
        var insideSegment = end is { } i && i % WalName.SegmentBytes != 0 && i / WalName.SegmentBytes == name.Segment;
        if (!atSegmentEnd && !insideSegment)
        {
            return null;
        }

        var archived = await ReadAsync(instanceId, name.Name, cancellationToken);
        if (archived is null)
        {
            return null;
        }

        var copy = offered.GetBuffer().AsSpan(0, (int)offered.Length);
        var length = insideSegment
            ? (int)(end!.Value % WalName.SegmentBytes)
            : Math.Min(ZeroTailStart(archived), ZeroTailStart(copy));
        return length > 0 && archived.Length >= length && copy.Length >= length && archived.AsSpan(0, length).SequenceEqual(copy[..length])
            ? name.Segment * WalName.SegmentBytes + length
            : null;
    }

    /// <summary>Where the run of zero bytes that ends <paramref name="bytes"/> begins (its length when it ends in a non-zero byte).</summary>
    internal static int ZeroTailStart(ReadOnlySpan<byte> bytes) => bytes.LastIndexOfAnyExcept((byte)0) + 1;

    private static bool Prunable(string name, long oldestNeededSegment) =>
        WalName.Parse(name) is { } n && n.Kind != WalFileKind.History && n.Segment < oldestNeededSegment;

    private ArchiveOutcome Fail(string instanceId, string name, ArchiveOutcome outcome, string reason)
    {
        _failures[instanceId] = new ArchiveFailure(name, reason, time.GetUtcNow());
        WalLog.ArchiveFailed(logger, instanceId, name, reason);
        return outcome;
    }
}

/// <summary>How an archive request ended.</summary>
internal enum ArchiveOutcome
{
    Stored,
    Conflict,
    Failed,
}

/// <summary>Why the newest archive attempt failed on the broker's side.</summary>
internal sealed record ArchiveFailure(string File, string Reason, DateTimeOffset At);

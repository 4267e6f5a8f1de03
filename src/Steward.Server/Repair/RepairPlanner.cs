using System.Text.Json;
using Steward.Backup.Pipeline;
using Steward.Engines;
using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Repair;
using Steward.Engines.PostgreSql.Verify;
using Steward.Engines.PostgreSql.Wal;
using Steward.Errors;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Backups.Wal;
using Steward.Server.Operations;
using Steward.State;
using Steward.Supervision;
using Steward.Wal;

namespace Steward.Server.Repair;

/// <summary>
/// Decides a repair before anything changes: which pages are damaged (the instance's open data-corruption incident,
/// or a fresh verify; then every page of each damaged relation's files checked the way the server reads it, since
/// pg_amcheck stops at a relation's first bad page), and whether a verified copy at the live point can be built at
/// all: a base backup followed, without a gap, by archived WAL and then by the WAL still in the live server's
/// pg_wal. Anything else is refused with the reason.
/// </summary>
internal sealed class RepairPlanner(IStateStore store, EngineRegistry engines, RecoveryPlanner recovery, IWalCatalog catalog, IBackupStorage storage)
{
    public async Task<RepairPlan> PlanAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var id = instance.Id;
        if (engines.Engine(instance.ServiceId) is not PostgreSqlEngine engine)
        {
            throw StewardException.BadRequest($"instance {id} is Redis, which has no partial repair: it keeps no page checksums and no WAL to rebuild single pages from. Recover it with steward rebuild {id} (from its latest backup; its old files are kept aside), and prove its backups with steward rehearse {id}");
        }

        if (engines.HighlyAvailable(instance))
        {
            throw StewardException.BadRequest($"repairing instances on a highly available plan is not supported yet (instance {id}); rebuild the damaged member instead");
        }

        if (engine.WalOptions is null)
        {
            throw StewardException.BadRequest($"instance {id} does not archive WAL: a repair needs a copy at the live point, built from a base backup and the archived WAL after it; recover it with steward rebuild {id}");
        }

        if (instance.State != InstanceState.Ready)
        {
            throw StewardException.Concurrency($"instance {id} is {instance.State.ToString().ToLowerInvariant()}; only a ready instance can be repaired (a quarantined one is rebuilt: steward rebuild {id})");
        }

        var live = engines.Context(instance);
        if (engines.Runtime.GetStatus(live.Paths) is not ProcessStatus.Running)
        {
            throw StewardException.Concurrency($"instance {id} is not running; a repair reads the live server's WAL and position, so start it first or rebuild it (steward rebuild {id})");
        }

        var checksums = await PostgreSqlRepair.DataChecksumsAsync(live, cancellationToken);
        var (damage, foundBy, fromIncident, evidence) = await DamageAsync(instance, engine, live, cancellationToken);
        var items = await ItemsAsync(live, damage, checksums, cancellationToken);
        if (items.Count == 0)
        {
            throw StewardException.BadRequest($"nothing to repair on instance {id}: every page of {string.Join(", ", damage.Select(d => d.File).Distinct())} passes its checksum and header check now ({foundBy}); run steward verify {id} again");
        }

        var (backupId, stopLsn, timeline, archived, unarchived, liveLsn) = await WalChainAsync(instance, live, cancellationToken);
        return new RepairPlan(id, backupId, Lsn.Format(stopLsn), timeline, items, items.Sum(i => i.Bytes), foundBy, fromIncident, archived, unarchived, Lsn.Format(liveLsn), evidence);
    }

    /// <summary>The damaged relations: the open data-corruption incident's (what verify found), else a fresh verify's.</summary>
    private async Task<(IReadOnlyList<DamagedRelation> Damage, string FoundBy, string? Incident, IReadOnlyList<string> Evidence)> DamageAsync(ServiceInstance instance, PostgreSqlEngine engine, EngineContext live, CancellationToken cancellationToken)
    {
        var open = (await store.ListIncidentsAsync(instance.Id, cancellationToken))
            .Where(i => i.Class == FailureClass.DataCorruption && i.State != IncidentState.Resolved && i.Evidence.ContainsKey("damaged"))
            .MaxBy(i => i.OpenedAt);
        if (open is not null && Parse(open.Evidence["damaged"]) is { Count: > 0 } recorded)
        {
            var by = open.Evidence.TryGetValue("found_by", out var f) && f?.ToString() is { } text ? text : "steward verify";
            var evidence = open.Evidence.TryGetValue("evidence", out var e) && e is not null ? JsonSerializer.SerializeToElement(e).EnumerateArray().Select(x => x.ToString()).ToList() : [];
            return (recorded, $"{by}, incident {open.Id} ({open.OpenedAt:u})", open.Id, evidence);
        }

        var report = await new PostgreSqlVerifier(engine).VerifyAsync(live, engines.Runtime.ServerLogSinceLastStart(live.Paths, 2000), cancellationToken, await RepairHistory.LastRepairedAtAsync(store, instance.Id, cancellationToken));
        if (report.Damaged.Count == 0)
        {
            throw StewardException.BadRequest(report.Clean
                ? $"nothing to repair on instance {instance.Id}: verify found no damaged page (pg_amcheck --heapallindexed over {report.RelationsChecked} relations, checksum failures, the server log)"
                : $"verify found signs of damage on instance {instance.Id} but no damaged file or block to repair ({string.Join("; ", report.Evidence.Take(3))}); recover it with steward rebuild {instance.Id}");
        }

        return (report.Damaged, "a fresh steward verify (pg_amcheck --heapallindexed, checksum failures, the server log)", null, report.Evidence);
    }

    private static List<DamagedRelation> Parse(object? recorded)
    {
        var list = new List<DamagedRelation>();
        if (recorded is null)
        {
            return list;
        }

        foreach (var d in JsonSerializer.SerializeToElement(recorded).EnumerateArray())
        {
            string? Text(string name) => d.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (Text("file") is not { } file)
            {
                continue;
            }

            var blocks = d.TryGetProperty("blocks", out var b) && b.ValueKind == JsonValueKind.Array ? b.EnumerateArray().Select(x => x.GetInt64()).ToList() : [];
            list.Add(new DamagedRelation(Text("database") ?? "postgres", Text("relation"), file, blocks, []));
        }

        return list;
    }

    /// <summary>Every damaged page of each damaged relation's files; a whole file only where pages cannot be told apart (no data checksums).</summary>
    private static async Task<List<RepairItem>> ItemsAsync(EngineContext live, IReadOnlyList<DamagedRelation> damage, bool checksums, CancellationToken cancellationToken)
    {
        var items = new List<RepairItem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var relation in damage)
        {
            if (relation.File.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(relation.File) || !(relation.File.StartsWith("base/", StringComparison.Ordinal) || relation.File.StartsWith("global/", StringComparison.Ordinal)))
            {
                continue;
            }

            if (!checksums)
            {
                var path = Path.Combine(live.Paths.DataDir, relation.File);
                if (File.Exists(path) && seen.Add(relation.File))
                {
                    items.Add(new RepairItem(relation.Database, relation.Relation, relation.File, [], true, new FileInfo(path).Length, "the cluster keeps no data checksums, so damaged pages cannot be told from good ones: the whole file is replaced"));
                }

                continue;
            }

            foreach (var file in DataFiles.OfRelation(live.Paths.DataDir, relation.File))
            {
                if (!seen.Add(file))
                {
                    continue;
                }

                var bad = await DataFiles.DamagedBlocksAsync(Path.Combine(live.Paths.DataDir, file), checksums, cancellationToken);
                if (bad.Count > 0)
                {
                    items.Add(new RepairItem(relation.Database, relation.Relation, file, [.. bad.Select(b => b.Block)], false, bad.Count * (long)DataPage.Size, string.Join("; ", bad.Take(5).Select(b => $"block {b.Block}: {b.Problem}"))));
                }
            }
        }

        return items;
    }

    /// <summary>
    /// The base backup the copy starts from and proof that WAL reaches from its end to the live server's current
    /// position: every segment archived (in the catalog and in storage) or still in the live pg_wal, not yet archived.
    /// </summary>
    private async Task<(string BackupId, long StopLsn, int Timeline, int Archived, int Unarchived, long LiveLsn)> WalChainAsync(ServiceInstance instance, EngineContext live, CancellationToken cancellationToken)
    {
        var id = instance.Id;
        var plan = await recovery.PlanAsync(id, new RecoveryTarget(RecoveryTargetKind.Latest), cancellationToken);
        var backup = await store.GetBackupAsync(plan.BackupId, cancellationToken);
        var start = backup is null ? null : RecoveryPlanner.BaseOf(backup) ?? throw StewardException.BadRequest($"backup {plan.BackupId} of instance {id} is not a physical backup");
        if (start is null)
        {
            throw StewardException.BadRequest($"instance {id} has no physical backup to build a copy from; take one with: steward backup create {id}");
        }

        var status = await WalInspector.StatusAsync(live, cancellationToken);
        var liveLsn = Lsn.Parse(status.CurrentLsn!);

        // The segment holding the last byte written (at a segment boundary, the next one does not exist yet).
        var liveSegment = (liveLsn - 1) / WalName.SegmentBytes;

        // pg_wal before the catalog: a segment archived in between is then found in the catalog.
        var pgWal = Path.Combine(live.Paths.DataDir, "pg_wal");
        var unarchived = Directory.EnumerateFiles(pgWal).Select(Path.GetFileName).OfType<string>()
            .Where(n => WalName.Parse(n) is { Kind: WalFileKind.Segment } && !File.Exists(Path.Combine(pgWal, "archive_status", n + ".done")))
            .ToHashSet(StringComparer.Ordinal);
        var timelines = new WalTimelines(await catalog.ListWalFilesAsync(id, cancellationToken));
        var archived = 0;
        var missing = new List<string>();
        var storageChecks = new List<(long Segment, Task<bool> Exists, string Name)>();
        for (var s = start.StopSegment; s <= liveSegment; s++)
        {
            var name = WalName.SegmentName(status.Timeline, s);
            if (timelines.SegmentFile(status.Timeline, s) is { } file)
            {
                archived++;
                storageChecks.Add((s, storage.ExistsAsync(file.Key, cancellationToken).AsTask(), file.Name));
            }
            else if (!unarchived.Contains(name))
            {
                missing.Add(name);
            }
        }

        foreach (var (_, exists, name) in storageChecks)
        {
            if (!await exists && !unarchived.Contains(name))
            {
                missing.Add(name + " (listed in the catalog, gone from storage)");
            }
        }

        if (missing.Count > 0)
        {
            throw StewardException.BadRequest($"no verified copy of instance {id} at its live point can be built, so nothing was changed: WAL between the end of backup {start.Id} (LSN {Lsn.Format(start.StopLsn)}) and the live server's position ({Lsn.Format(liveLsn)}) has a gap: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : string.Empty)} missing from the archive and from the server's pg_wal. Take a new backup (steward backup create {id}) and repair again, or recover with steward rebuild {id}");
        }

        return (start.Id, start.StopLsn, status.Timeline, archived, (int)(liveSegment - start.StopSegment + 1) - archived, liveLsn);
    }
}

using System.Globalization;
using System.Text.Json;
using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Repair;
using Steward.Engines.PostgreSql.Wal;
using Steward.Errors;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Repair;
using Steward.Supervision;
using Steward.Wal;

namespace Steward.Server.Operations;

/// <summary>
/// Partial repair (docs/repair.md): a copy at the live server's exact point replaces only the damaged pages. The copy
/// replays the archived WAL while the live server keeps serving; then the live server stops cleanly (its shutdown
/// checkpoint is its last WAL record), its last WAL is shipped to the copy, and once the copy has replayed past that
/// checkpoint its pages are the live server's pages as they should be. Each damaged page is kept aside and replaced
/// in place; the live server starts again and is checked.
/// </summary>
internal sealed partial class InstanceWorkflows
{
    /// <summary>How long the copy's replay may stand still before the repair gives up (and looks for a WAL gap).</summary>
    private static readonly TimeSpan ReplayStall = TimeSpan.FromSeconds(30);

    private async Task<Operation> RepairAsync(Operation op, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize<RepairPayload>(op.PayloadJson!)!;
        var plan = payload.Plan;
        var instance = await InstanceAsync(op, cancellationToken);
        var engine = (PostgreSqlEngine)engines.Engine(instance.ServiceId);
        var live = engines.Context(instance);
        var copy = new RepairCopy(engine, Runtime, live, engines.Context(instance with { InternalId = payload.Sandbox, Port = payload.SandboxPort }), time);
        var backup = await store.GetBackupAsync(plan.BackupId, cancellationToken) ?? throw new InvalidOperationException($"backup {plan.BackupId} of operation {op.Id} is missing");
        var kept = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(live.Paths.Root.TrimEnd('/'))!)!, "preserved", payload.PreservedName);
        var checksums = !plan.Items.Any(i => i.WholeFile);
        var patcher = new PagePatcher(live.Paths.DataDir, copy.Context.Paths.DataDir, kept, checksums);
        var report = progress.Track(op.Id);
        var incident = await store.GetIncidentAsync(payload.IncidentId, cancellationToken);

        async Task Note(string kind, string detail, CancellationToken ct, IReadOnlyDictionary<string, object?>? evidence = null)
        {
            incident = incident!.With(time.GetUtcNow(), kind, detail);
            if (evidence is not null)
            {
                var merged = new Dictionary<string, object?>(incident.Evidence);
                foreach (var (k, v) in evidence)
                {
                    merged[k] = v;
                }

                incident = incident with { Evidence = merged };
            }

            await store.SaveIncidentAsync(incident, ct);
        }

        string? Evidence(string key) => incident!.Evidence.TryGetValue(key, out var v) && v is not null ? v.ToString() : null;

        var steps = new List<Step>
        {
            new("record", "recording the repair", async ct =>
            {
                incident ??= NewRepairIncident(op, payload, instance);
                await Note("repair-requested", $"repair requested (operation {op.Id}): {plan.Describe()} are to be replaced from a copy at the live point, built from backup {plan.BackupId} and the WAL after it", ct, new Dictionary<string, object?>
                {
                    ["repair_plan"] = PlanEvidence(plan),
                });
            }),
            new("copy", $"restoring backup {plan.BackupId} into the repair copy", async ct =>
            {
                await copy.BuildAsync(backup, backups, report, options.StopGrace, ct);
                await Note("copy-started", $"backup {plan.BackupId} restored into a sandbox ({copy.Context.Paths.Root}, port {payload.SandboxPort}); it replays the archived WAL as a hot standby while the live server keeps serving", ct);
            }),
            new("catch-up", "replaying the archived WAL and the live server's pg_wal into the copy", async ct =>
            {
                await copy.StartAsync(ct);
                var target = await PostgreSqlRepair.CurrentLsnAsync(live, ct);
                var (files, bytes) = await copy.ShipUnarchivedWalAsync(plan.Timeline, target / WalName.SegmentBytes, ct);
                var replayed = await copy.WaitReplayedAsync(target, false, (name, c) => ArchivedAsync(instance.Id, name, c), report, ReplayStall, ct);
                await Note("copy-caught-up", $"the copy replayed to {Lsn.Format(replayed)} (the live server was at {Lsn.Format(target)}; {files} unarchived WAL file(s), {bytes} bytes, handed over from its pg_wal)", ct);
            }),
            new("check-copy", "checking the copy's damaged relations", async ct =>
            {
                var checks = await CheckRelationsAsync(copy.Context, plan, installMissing: false, ct);
                if (checks.FirstOrDefault(c => c.Problem is not null) is { } bad)
                {
                    throw new StewardException(ErrorCode.Internal, $"the copy is damaged too ({bad.Problem}): no verified copy can be built from backup {plan.BackupId}; nothing was changed");
                }

                await Note("copy-checked", "amcheck on the copy: " + Describe(checks), ct, new Dictionary<string, object?> { ["checks_before"] = checks.Select(CheckEvidence).ToList() });
            }),
            new("prepare", "checkpointing the live server and the copy before the stop", async ct =>
            {
                // Shortens the stop: the live server's shutdown checkpoint and the copy's final restartpoint then have
                // only the pages of the last moments left to write, not everything since their previous checkpoints.
                await WalInspector.CheckpointAsync(live, ct);
                var point = await PostgreSqlRepair.CurrentLsnAsync(live, ct);
                await copy.ShipUnarchivedWalAsync(plan.Timeline, (point - 1) / WalName.SegmentBytes, ct);
                await copy.WaitReplayedAsync(point, false, (name, c) => ArchivedAsync(instance.Id, name, c), report, ReplayStall, ct);
                await copy.FlushAsync(ct);
            }),
            new("stop", "stopping the live server (fast shutdown) for the repair", async ct =>
            {
                if (Evidence("downtime_started_at") is null)
                {
                    await Note("live-stopping", "the live server is stopped (fast shutdown: a checkpoint writes every page it holds)", ct, new Dictionary<string, object?> { ["downtime_started_at"] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture) });
                }

                await Runtime.StopAsync(live.Paths, engine.Launch(live).StopSignal, options.StopGrace, ct);
                var control = await ControlData.ReadAsync(engine, live, live.Paths.DataDir, ct);
                if (!control.CleanlyShutDown)
                {
                    throw new StewardException(ErrorCode.Internal, $"the live server did not shut down cleanly (pg_controldata: {control.State}); its pages are not all at a checkpoint, so none are replaced");
                }

                await Note("live-stopped", $"the live server shut down cleanly; its shutdown checkpoint at {Lsn.Format(control.CheckpointLsn)} on timeline {control.Timeline} is its last WAL record", ct, new Dictionary<string, object?>
                {
                    ["shutdown_checkpoint"] = Lsn.Format(control.CheckpointLsn),
                    ["shutdown_redo"] = Lsn.Format(control.RedoLsn),
                    ["shutdown_timeline"] = control.Timeline,
                });
            }),
            new("ship", "handing the live server's last WAL to the copy and replaying it to the shutdown checkpoint", async ct =>
            {
                var (checkpoint, redo, timeline) = Evidence("shutdown_checkpoint") is { } cp && Evidence("shutdown_redo") is { } rd && int.TryParse(Evidence("shutdown_timeline"), CultureInfo.InvariantCulture, out var tli)
                    ? (Lsn.Parse(cp), Lsn.Parse(rd), tli)
                    : await ShutdownPointAsync(engine, live, ct);

                // A copy that stopped meanwhile (its restore_command could not reach a broker killed mid-repair) starts
                // again from its last restartpoint and replays from there.
                await copy.StartAsync(ct);
                var (files, bytes) = await copy.ShipFinalWalAsync(timeline, redo / WalName.SegmentBytes, checkpoint / WalName.SegmentBytes, ct);
                var replayed = await copy.WaitReplayedAsync(checkpoint, true, (name, c) => ArchivedAsync(instance.Id, name, c), report, ReplayStall, ct);
                await copy.FlushAsync(ct);
                await Note("copy-at-live-point", $"the copy replayed past the live server's shutdown checkpoint {Lsn.Format(checkpoint)} (to {Lsn.Format(replayed)}; {files} WAL file(s), {bytes} bytes, shipped) and wrote its pages: they are the live server's pages at its shutdown", ct, new Dictionary<string, object?> { ["copy_replayed_to"] = Lsn.Format(replayed) });
            }),
            new("patch", "replacing the damaged pages with the copy's", async ct =>
            {
                var replaced = await patcher.PatchAsync(plan.Items, ct);
                var bytes = replaced.Sum(r => r.Bytes);
                await Note("replaced", $"{replaced.Count(r => r.Block is not null)} page(s){(replaced.Any(r => r.Block is null) ? $" and {replaced.Count(r => r.Block is null)} whole file(s)" : string.Empty)} replaced, {bytes} bytes written into the live server's files; the damaged originals are kept in {kept}", ct, new Dictionary<string, object?>
                {
                    ["replaced"] = replaced.Select(r => new Dictionary<string, object?> { ["file"] = r.File, ["block"] = r.Block, ["bytes"] = r.Bytes, ["detail"] = r.Detail }).ToList(),
                    ["bytes_copied"] = bytes,
                    ["originals_kept_in"] = kept,
                });
            }),
            new("start", "starting the live server", async ct =>
            {
                await EnsureRunningAsync(instance, ct);
                if (Evidence("downtime_seconds") is null && Evidence("downtime_started_at") is { } stoppedAt)
                {
                    var downtime = time.GetUtcNow() - DateTimeOffset.Parse(stoppedAt, CultureInfo.InvariantCulture);
                    await Note("live-started", string.Create(CultureInfo.InvariantCulture, $"the live server answers again after {downtime.TotalSeconds:0.00} s of downtime"), ct, new Dictionary<string, object?> { ["downtime_seconds"] = Math.Round(downtime.TotalSeconds, 3) });
                }
            }, Rerun: true),
            new("check", "checking the repaired relations on the live server", async ct =>
            {
                var checks = await CheckRelationsAsync(live, plan, installMissing: true, ct);
                var pages = await CheckPagesAsync(live.Paths.DataDir, plan, checksums, ct);
                var after = checks.Select(CheckEvidence).Append(new Dictionary<string, object?> { ["check"] = "page checksums", ["result"] = pages.Bad.Count == 0 ? "passed" : "failed", ["evidence"] = pages.Summary }).ToList();
                await Note("checked", $"after the repair: amcheck {Describe(checks)}; {pages.Summary}", ct, new Dictionary<string, object?> { ["checks_after"] = after });
                if (checks.FirstOrDefault(c => c.Problem is not null) is { } bad)
                {
                    throw new StewardException(ErrorCode.Internal, $"the repaired instance still fails amcheck: {bad.Problem}; steward verify {instance.Id} finds what is left");
                }

                if (pages.Bad.Count > 0)
                {
                    throw new StewardException(ErrorCode.Internal, $"the repaired instance still has damaged pages: {string.Join(", ", pages.Bad.Take(5))}");
                }
            }, Rerun: true),
            new("cleanup", "removing the repair copy", ct => copy.DiscardAsync(ct), Rerun: true),
        };

        try
        {
            op = await RunStepsAsync(op, steps, cancellationToken);
            var summary = RepairSummary(plan, incident!, op, time.GetUtcNow());
            await Note("repaired", summary, cancellationToken);
            incident = incident! with { State = IncidentState.Resolved, Summary = $"{incident.Summary}; repaired: {summary}", Evidence = new Dictionary<string, object?>(incident.Evidence) { ["repair"] = RepairEvidence(plan, incident, op, time.GetUtcNow()) } };
            await store.SaveIncidentAsync(incident, cancellationToken);
            await WriteRepairReportAsync(kept, incident, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, summary + $" (incident {incident.Id})", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var description = await FailureAsync("repairing", op, ex, instance);
            var outcome = await RollBackRepairAsync(instance, patcher, kept);
            await copy.DiscardAsync(CancellationToken.None);
            if (incident is not null)
            {
                await Note("repair-failed", $"{description}; {outcome}", CancellationToken.None);
            }

            var usable = Runtime.GetStatus(live.Paths) is ProcessStatus.Running;
            return await FinishAsync(op with { InstanceUsable = usable }, OperationState.Failed, $"{description}; {outcome}", ex, CancellationToken.None);
        }
        finally
        {
            progress.Forget(op.Id);
        }
    }

    private static async Task<(long Checkpoint, long Redo, int Timeline)> ShutdownPointAsync(PostgreSqlEngine engine, Engines.EngineContext live, CancellationToken cancellationToken)
    {
        var control = await ControlData.ReadAsync(engine, live, live.Paths.DataDir, cancellationToken);
        return (control.CheckpointLsn, control.RedoLsn, control.Timeline);
    }

    /// <summary>
    /// After a failed repair the live server runs again: unchanged when no page was replaced yet; with the repaired
    /// pages when it starts with them; otherwise with its originals put back.
    /// </summary>
    private async Task<string> RollBackRepairAsync(ServiceInstance instance, PagePatcher patcher, string kept)
    {
        var patched = Directory.Exists(kept) && Directory.EnumerateFiles(kept).Any();
        try
        {
            await EnsureRunningAsync(instance, CancellationToken.None);
            return patched ? $"the live server runs with the replaced pages (originals kept in {kept})" : "nothing in the live server was changed; it runs as before";
        }
        catch (Exception first) when (patched)
        {
            try
            {
                await Runtime.StopAsync(engines.Context(instance).Paths, 9, TimeSpan.Zero, CancellationToken.None);
                var restored = await patcher.RestoreOriginalsAsync(CancellationToken.None);
                await EnsureRunningAsync(instance, CancellationToken.None);
                return $"the live server did not start with the replaced pages ({first.Message}); the {restored} original(s) were put back and it runs as before";
            }
            catch (Exception second)
            {
                return $"the live server does not start ({second.Message}); the originals are in {kept}: rebuild it with steward rebuild {instance.Id}";
            }
        }
        catch (Exception ex)
        {
            return $"the live server does not start ({ex.Message}): rebuild it with steward rebuild {instance.Id}";
        }
    }

    private Incident NewRepairIncident(Operation op, RepairPayload payload, ServiceInstance instance)
    {
        var now = time.GetUtcNow();
        return new Incident
        {
            Id = payload.IncidentId,
            InstanceId = instance.Id,
            Class = FailureClass.DataCorruption,
            State = IncidentState.Open,
            Summary = $"instance {instance.Id}: damaged data pages: {payload.Plan.Describe()}",
            Evidence = new Dictionary<string, object?>
            {
                ["damaged"] = payload.Plan.Items.Select(i => new Dictionary<string, object?> { ["database"] = i.Database, ["relation"] = i.Relation, ["file"] = i.File, ["blocks"] = i.Blocks }).ToList(),
                ["found_by"] = payload.Plan.FoundBy,
                ["evidence"] = payload.Plan.Evidence,
                ["operation"] = op.Id,
            },
            OpenedAt = now,
            UpdatedAt = now,
        };
    }

    /// <summary>Whether the archive's catalog lists the WAL file (the state store keeps the catalog).</summary>
    private async Task<bool> ArchivedAsync(string instanceId, string name, CancellationToken cancellationToken) =>
        store is not Steward.Wal.IWalCatalog catalog || await catalog.GetWalFileAsync(instanceId, name, cancellationToken) is not null;

    private static async Task<List<RelationCheck>> CheckRelationsAsync(Engines.EngineContext context, RepairPlan plan, bool installMissing, CancellationToken cancellationToken)
    {
        var checks = new List<RelationCheck>();
        foreach (var item in plan.Items.DistinctBy(i => (i.Database, Node: Path.GetFileName(i.File).Split('.', '_')[0])))
        {
            checks.Add(await PostgreSqlRepair.CheckRelationAsync(context, item.Database, item.File, installMissing, cancellationToken));
        }

        return checks;
    }

    /// <summary>Reads every replaced page back from the live server's files; a page the running server is writing just then is read again.</summary>
    private async Task<(List<string> Bad, string Summary)> CheckPagesAsync(string dataDir, RepairPlan plan, bool checksums, CancellationToken cancellationToken)
    {
        var bad = new List<string>();
        var count = 0;
        foreach (var item in plan.Items.Where(i => !i.WholeFile))
        {
            foreach (var block in item.Blocks)
            {
                count++;
                for (var attempt = 0; ; attempt++)
                {
                    var page = await DataFiles.ReadPageAsync(Path.Combine(dataDir, item.File), block, cancellationToken);
                    var problem = page is null ? "beyond the end of the file" : DataPage.Problem(page, DataPage.ForkBlock(Path.GetFileName(item.File), block), checksums);
                    if (problem is null)
                    {
                        break;
                    }

                    if (attempt == 2)
                    {
                        bad.Add($"{item.File} block {block}: {problem}");
                        break;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
                }
            }
        }

        var summary = count == 0
            ? "page checks: whole files replaced (no data checksums to check pages against)"
            : $"page checksums: {count - bad.Count} of {count} replaced page(s) read back from the live server's files pass{(checksums ? " their checksum and" : string.Empty)} the header check";
        return (bad, summary);
    }

    private static string Describe(IReadOnlyList<RelationCheck> checks) =>
        string.Join("; ", checks.Select(c => c.Skipped ?? (c.Problem is null ? $"{c.Relation}: clean ({c.RelationsChecked} relation(s): heap and B-tree indexes with heapallindexed)" : $"{c.Relation}: {c.Problem}")));

    private static Dictionary<string, object?> CheckEvidence(RelationCheck c) => new()
    {
        ["check"] = "amcheck",
        ["relation"] = c.Relation,
        ["result"] = c.Skipped is not null ? "skipped" : c.Problem is null ? "passed" : "failed",
        ["relations_checked"] = c.RelationsChecked,
        ["evidence"] = c.Skipped ?? c.Problem ?? "verify_heapam and bt_index_check(heapallindexed): no corruption",
    };

    private static Dictionary<string, object?> PlanEvidence(RepairPlan plan) => new()
    {
        ["backup_id"] = plan.BackupId,
        ["base_stop_lsn"] = plan.BaseStopLsn,
        ["timeline"] = plan.Timeline,
        ["archived_segments"] = plan.ArchivedSegments,
        ["unarchived_segments"] = plan.UnarchivedSegments,
        ["live_lsn_at_request"] = plan.LiveLsn,
        ["pages"] = plan.Pages,
        ["whole_files"] = plan.WholeFiles,
        ["bytes"] = plan.Bytes,
        ["found_by"] = plan.FoundBy,
        ["items"] = plan.Items.Select(i => new Dictionary<string, object?> { ["database"] = i.Database, ["relation"] = i.Relation, ["file"] = i.File, ["blocks"] = i.Blocks, ["whole_file"] = i.WholeFile, ["bytes"] = i.Bytes, ["why"] = i.Why }).ToList(),
    };

    private static string RepairSummary(RepairPlan plan, Incident incident, Operation op, DateTimeOffset finished)
    {
        var e = RepairEvidence(plan, incident, op, finished);
        return string.Create(CultureInfo.InvariantCulture, $"{plan.Describe()} replaced from a copy at the live server's shutdown checkpoint {e["shutdown_checkpoint"]}: {e["bytes_copied"]} bytes copied, {e["downtime_seconds"]} s of downtime, no data lost; {(double)e["total_seconds"]!:0.0} s in all; originals kept in {e["originals_kept_in"]}");
    }

    private static Dictionary<string, object?> RepairEvidence(RepairPlan plan, Incident incident, Operation op, DateTimeOffset finished)
    {
        object? Get(string key) => incident.Evidence.TryGetValue(key, out var v) ? v : null;
        return new Dictionary<string, object?>
        {
            ["operation"] = op.Id,
            ["found_by"] = plan.FoundBy,
            ["backup_id"] = plan.BackupId,
            ["pages"] = plan.Pages,
            ["whole_files"] = plan.WholeFiles,
            ["bytes_planned"] = plan.Bytes,
            ["bytes_copied"] = Get("bytes_copied"),
            ["replaced"] = Get("replaced"),
            ["downtime_seconds"] = Get("downtime_seconds"),
            ["data_lost"] = "none: the pages came from a copy replayed past the live server's shutdown checkpoint, its last WAL record",
            ["shutdown_checkpoint"] = Get("shutdown_checkpoint"),
            ["copy_replayed_to"] = Get("copy_replayed_to"),
            ["checks_before"] = Get("checks_before"),
            ["checks_after"] = Get("checks_after"),
            ["originals_kept_in"] = Get("originals_kept_in"),
            ["total_seconds"] = Math.Round((finished - op.CreatedAt).TotalSeconds, 2),
        };
    }

    private static async Task WriteRepairReportAsync(string kept, Incident incident, CancellationToken cancellationToken)
    {
        if (Directory.Exists(kept))
        {
            var json = JsonSerializer.Serialize(new { incident = incident.Id, summary = incident.Summary, evidence = incident.Evidence, timeline = incident.Timeline }, new JsonSerializerOptions { WriteIndented = true });
            await File.WriteAllTextAsync(Path.Combine(kept, "REPAIR.json"), json + "\n", cancellationToken);
        }
    }
}

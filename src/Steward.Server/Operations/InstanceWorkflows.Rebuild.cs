using System.Globalization;
using System.Text.Json;
using Steward.Backups;
using Steward.Engines;
using Steward.Engines.PostgreSql.Wal;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Backups;
using Steward.Supervision;

namespace Steward.Server.Operations;

/// <summary>
/// Rebuild over fix: whatever state the instance is in, stop and fence what is left, move its files aside for
/// inspection, create it again from scratch and restore the chosen backup into it, under the same id, port and
/// binding credentials; verified before it is declared done, and recorded in an incident with the recovery point
/// and recovery time achieved.
/// </summary>
internal sealed partial class InstanceWorkflows
{
    private async Task<Operation> RebuildAsync(Operation op, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize<RebuildPayload>(op.PayloadJson!)!;
        var instance = await InstanceAsync(op, cancellationToken);
        var engine = engines.Engine(instance.ServiceId);
        var context = engines.Context(instance);
        var backup = payload.BackupId is null
            ? null
            : await store.GetBackupAsync(payload.BackupId, cancellationToken) ?? throw new InvalidOperationException($"backup {payload.BackupId} of operation {op.Id} is missing");
        var method = backup is null ? null : backups.Method(engine.Offering.Name, backup.Kind);
        var report = progress.Track(op.Id);
        var host = backup is null ? null : new RestoreHost(backup, context, engine, backups, report, ct => EnsureRunningAsync(instance, ct), options.StopGrace);
        var incident = await store.GetIncidentAsync(payload.IncidentId, cancellationToken);

        async Task Note(string kind, string detail, CancellationToken ct, Func<Incident, Incident>? change = null)
        {
            incident = (change ?? (i => i))(incident!.With(time.GetUtcNow(), kind, detail));
            await store.SaveIncidentAsync(incident, ct);
        }

        var steps = new List<Step>
        {
            new("record", "recording the rebuild", async ct =>
            {
                incident ??= NewRebuildIncident(op, payload, instance);
                var what = backup is null ? "an empty instance (asked for explicitly)" : $"backup {backup.Id} ({backup.Kind}, taken {backup.StartedAt:u})";
                if (payload.PointInTime is { } pit)
                {
                    what += $" and the archived WAL replayed to {pit.Description}";
                }

                await Note("rebuild-requested", $"rebuild requested (operation {op.Id}{(payload.Reason is null ? string.Empty : $", reason: {payload.Reason}")}): the instance is recreated from scratch with {what}", ct);
            }),
            new("archive", "archiving the WAL the server still holds", async ct =>
            {
                // The latest recoverable point includes what a server that still runs has written: its current segment
                // is completed and archived first (best effort: a broken server may not manage it).
                if (payload.PointInTime is { Target: "latest" })
                {
                    try
                    {
                        await ArchiveCurrentAsync(context, ct);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        await Note("not-archived", $"the server's current WAL could not be archived before it was stopped: {ex.Message}", ct);
                    }
                }
            }),
            new("fence", "stopping whatever is left of the instance", async ct =>
            {
                incident = await fence.StopAsync(engine, context, incident!, ct);
                await store.SaveIncidentAsync(incident, ct);
            }, Rerun: true),
            new("preserve", "moving the instance's files aside for inspection", async ct =>
            {
                var preserved = await Runtime.PreserveAsync(context.Paths, payload.PreservedName, time.GetUtcNow(), ct);
                await Note("preserved", $"the instance's files as they were are preserved in {preserved}", ct, i => i with { PreservedPath = preserved });
            }),
            new("restore", backup is null ? "creating an empty instance" : $"recreating the instance from backup {backup.Id} ({backup.Kind})", async ct =>
            {
                // A new place with the instance's port and plan (on Kubernetes: a new StatefulSet and volume claim, the
                // same Service address), empty whatever an earlier attempt left.
                await Runtime.CreateInstanceAsync(context.Paths, context.Shape, ct);
                await (method is { RestoresWholeDataDirectory: true } ? engine.InitializeForRestoreAsync(context, ct) : engine.InitializeAsync(context, ct));

                await engine.ConfigureAsync(context, ct);
                if (backup is not null && (payload.PointInTime ?? AsPointInTime(backup, engine)) is { } recovery)
                {
                    // The instance archives WAL: the rebuilt server replays the archive to the target (to the end of
                    // the backup when a backup was named) and promotes onto a new timeline, so its WAL never takes
                    // names the archive already holds, as a restore does.
                    await RecoverIntoDataDirectoryAsync(instance, context, host!, recovery.Settings, async (staging, c) =>
                    {
                        if (payload.PointInTime is not null && await GiveUnarchivedWalAsync(context, incident!.PreservedPath, staging, c) is var given and > 0)
                        {
                            await Note("wal-rescued", $"{given} WAL segment file(s) the old server wrote but had not archived are replayed too, from its preserved pg_wal (a damaged one ends the replay there)", c);
                        }
                    }, report, ct);
                    if (await WalInspector.LastReplayedCommitAsync(context, ct) is { } replayed)
                    {
                        await Note("replayed", $"archived WAL replayed to {recovery.Description}; the last transaction replayed committed at {replayed:yyyy-MM-dd HH:mm:ss.fff}Z", ct, i => i with
                        {
                            Evidence = new Dictionary<string, object?>(i.Evidence) { ["replayed_to"] = replayed.ToString("O", CultureInfo.InvariantCulture) },
                        });
                    }

                    return;
                }

                if (method is { RestoresWholeDataDirectory: true })
                {
                    await method.RestoreAsync(context, host!, ct);
                    return;
                }

                await EnsureRunningAsync(instance, ct);
                await engine.BootstrapAsync(context, ct);
                if (method is not null)
                {
                    await method.RestoreAsync(context, host!, ct);
                }
            }, Rerun: true),
            new("checksums", "turning data checksums on where the restored cluster has none", async ct =>
            {
                // A cluster from before Steward turned checksums on (or restored from one's backup) cannot tell a damaged
                // page from a good one, so partial repair cannot serve it: the rebuild, which stops the server anyway,
                // turns them on. Rerun after a crash: pg_checksums killed half-way leaves them off, and runs again.
                if (engine is not IDataChecksums checksums || await checksums.ChecksumsEnabledAsync(context, ct))
                {
                    return;
                }

                var began = time.GetTimestamp();
                await StopAsync(engine, instance, ct);
                await checksums.EnableChecksumsAsync(context, ct);
                await EnsureRunningAsync(instance, ct);
                await Note("checksums-enabled", string.Create(CultureInfo.InvariantCulture, $"data checksums turned on (the restored cluster had none; pg_checksums --enable over the stopped server, {time.GetElapsedTime(began).TotalSeconds:F1} s): damaged pages are now found and repaired one by one"), ct);
            }, Rerun: true),
            CredentialsStep(instance, context),
            new("verify", "checking the rebuilt server", ct => EnsureRunningAsync(instance, ct), Rerun: true),
        };

        try
        {
            op = await RunStepsAsync(op, steps, cancellationToken);
            var achieved = RebuildReport.Of(op, backup, payload.PointInTime, incident!, time.GetUtcNow());
            await SaveAsync(instance with { State = InstanceState.Ready }, cancellationToken);
            await Note("rebuilt", achieved.Summary, cancellationToken, i => i with
            {
                State = IncidentState.Resolved,
                Summary = $"{i.Summary}; rebuilt: {achieved.Summary}",
                Evidence = new Dictionary<string, object?>(i.Evidence) { ["rebuild"] = achieved.Evidence },
            });
            await WriteReportAsync(achieved, incident!, cancellationToken);
            return await FinishAsync(op, OperationState.Succeeded, achieved.Summary + $" (incident {incident!.Id})", null, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var description = await FailureAsync("rebuilding", op, ex, instance);

            // Whatever the attempt left is stopped; the instance stays out of supervision (nothing restarts it in a
            // loop) until a rebuild succeeds or it is deleted. Its original files stay preserved.
            await Runtime.StopAsync(context.Paths, 9, TimeSpan.Zero, CancellationToken.None);
            await SaveAsync(instance with { State = InstanceState.Quarantined }, CancellationToken.None);
            if (incident is not null)
            {
                await Note("rebuild-failed", description, CancellationToken.None, i => i with { State = IncidentState.Quarantined });
            }

            return await FinishAsync(op with { InstanceUsable = false }, OperationState.Failed, description, ex, CancellationToken.None);
        }
        finally
        {
            progress.Forget(op.Id);
        }
    }

    private Incident NewRebuildIncident(Operation op, RebuildPayload payload, ServiceInstance instance)
    {
        var now = time.GetUtcNow();
        var problem = Runtime.DataDirectoryProblem(Runtime.PathsFor(instance.InternalId));
        return new Incident
        {
            Id = payload.IncidentId,
            InstanceId = instance.Id,

            // A data directory found damaged is data corruption: the fence then rescues what the server still holds.
            Class = problem is null ? FailureClass.Unknown : FailureClass.DataCorruption,
            State = IncidentState.Open,
            Summary = $"rebuild requested{(payload.Reason is null ? string.Empty : $": {payload.Reason}")}",
            Evidence = new Dictionary<string, object?>
            {
                ["operation"] = op.Id,
                ["requested_by"] = op.OriginatingIdentity,
                ["class_evidence"] = problem,
            },
            OpenedAt = now,
            UpdatedAt = now,
        };
    }

    private async Task WriteReportAsync(RebuildReport report, Incident incident, CancellationToken cancellationToken)
    {
        if (incident.PreservedPath is not { } preserved || !Directory.Exists(preserved))
        {
            return;
        }

        // Beside the preserved files, so whoever inspects them reads what happened without the API.
        var json = JsonSerializer.Serialize(new { incident = incident.Id, report.Summary, report.Evidence }, ReportJson);
        await File.WriteAllTextAsync(Path.Combine(preserved, "REBUILD.json"), json + "\n", cancellationToken);
    }

    private static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Hands the recovery the WAL segment files the old server wrote but had not archived (no <c>.done</c> status):
    /// the tail the archive lacks when the server died before archiving it. PostgreSQL prefers the archive and reads
    /// pg_wal only for what the archive lacks; it validates every record, so a damaged or stale file ends the replay
    /// there (as crash recovery would), and after its promotion it archives the old timeline's segments it was
    /// given. The step PostgreSQL's manual prescribes for a restore after a failure ("copy any unarchived WAL
    /// segment files from the pg_wal directory of the old cluster"). Returns how many files were given.
    /// </summary>
    private async Task<int> GiveUnarchivedWalAsync(Engines.EngineContext context, string? preserved, string staging, CancellationToken cancellationToken)
    {
        var old = preserved is null ? null : Path.Combine(preserved, "data", "pg_wal");
        if (old is null || !Directory.Exists(old))
        {
            return 0;
        }

        var given = 0;
        foreach (var file in Directory.EnumerateFiles(old))
        {
            var name = Path.GetFileName(file);
            var segment = name.Length == 24 && name.All(Uri.IsHexDigit);
            var history = name.EndsWith(".history", StringComparison.Ordinal) && name.Length == 16 && name[..8].All(Uri.IsHexDigit);
            var target = Path.Combine(staging, "pg_wal", name);
            if ((segment || history) && !File.Exists(Path.Combine(old, "archive_status", name + ".done")) && !File.Exists(target))
            {
                await Runtime.CopyFileAsync(file, target, cancellationToken);
                given++;
            }
        }

        return given;
    }

    /// <summary>What a rebuild achieved: the recovery point (what the backup and the replayed WAL hold) and the recovery time.</summary>
    private sealed record RebuildReport(string Summary, IReadOnlyDictionary<string, object?> Evidence)
    {
        public static RebuildReport Of(Operation op, BackupRecord? backup, Backups.Wal.PointInTimePayload? pointInTime, Incident incident, DateTimeOffset finished)
        {
            var preserved = incident.PreservedPath;
            var recoveryTime = finished - op.CreatedAt;
            var replayed = incident.Evidence.TryGetValue("replayed_to", out var r) && r?.ToString() is { } text
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var t) ? t : (DateTimeOffset?)null;
            var completed = backup?.CompletedAt ?? backup?.StartedAt;

            // A time target is the state at that time; otherwise what the backup holds, or the last transaction replayed after it.
            var point = pointInTime is { Point: { } target } && pointInTime.Target.StartsWith("time", StringComparison.Ordinal)
                ? target
                : replayed is { } last && (completed is null || last > completed) ? last : completed;
            var lossWindow = point is { } p ? (op.CreatedAt > p ? op.CreatedAt - p : TimeSpan.Zero) : (TimeSpan?)null;
            var evidence = new Dictionary<string, object?>
            {
                ["operation"] = op.Id,
                ["backup_id"] = backup?.Id,
                ["backup_kind"] = backup?.Kind,
                ["target"] = pointInTime?.Description ?? (backup is null ? null : "the end of the backup"),
                ["recovery_point"] = point?.ToString("O", CultureInfo.InvariantCulture),
                ["data_loss_window_seconds"] = lossWindow is { } w ? Math.Round(w.TotalSeconds, 1) : null,
                ["recovery_time_seconds"] = Math.Round(recoveryTime.TotalSeconds, 2),
                ["preserved_path"] = preserved,
                ["requested_at"] = op.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
                ["finished_at"] = finished.ToString("O", CultureInfo.InvariantCulture),
            };
            var from = backup is null
                ? "rebuilt empty (asked for explicitly)"
                : pointInTime is not null
                    ? string.Create(CultureInfo.InvariantCulture, $"rebuilt from backup {backup.Id} taken {completed:u} and the archived WAL replayed to {pointInTime.Description}: recovery point {point:u}, {lossWindow!.Value.TotalSeconds:0.0} s before the request")
                    : string.Create(CultureInfo.InvariantCulture, $"rebuilt from backup {backup.Id} taken {point:u}: recovery point {point:u}, data written in the {lossWindow!.Value.TotalSeconds:0} s before the request is not in it");
            var summary = string.Create(CultureInfo.InvariantCulture, $"{from}; recovered in {recoveryTime.TotalSeconds:0.0} s; the previous files are preserved in {preserved}");
            return new RebuildReport(summary, evidence);
        }
    }
}

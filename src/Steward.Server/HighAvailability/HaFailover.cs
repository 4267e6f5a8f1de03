using System.Globalization;
using Steward.HighAvailability;
using Steward.Instances;
using Steward.Runtime;
using Steward.Security;
using Steward.Server.Operations;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.HighAvailability;

/// <summary>
/// The decisions of high availability, each recorded before it is carried out: fence first (the failed member
/// is marked fenced durably, then every process of it killed, then its endpoint slot cut), then promote only a
/// standby that holds every acknowledged write, then lead the endpoint to it and rebuild redundancy.
/// </summary>
internal sealed class HaFailover(
    IStateStore store,
    IHaMemberStore memberStore,
    EngineRegistry engines,
    HaLayout layout,
    HaMembers builder,
    IHaEndpoint proxy,
    HaRegistry registry,
    Steward.Server.Supervision.HealthRegistry health,
    HaOptions options,
    TimeProvider time,
    ILogger<HaFailover> logger)
{
    public IReplicationEngine Replication(ServiceInstance instance) => builder.Replication(instance);

    /// <summary>One member per slot (the live one, else the last fenced one): what the endpoint's server lines are.</summary>
    public static IReadOnlyList<HaMember> Slots(IReadOnlyList<HaMember> members) =>
        [.. members.GroupBy(m => m.Slot).Select(g => g.LastOrDefault(m => m.Role != MemberRole.Fenced) ?? g.Last()).OrderBy(m => m.Slot)];

    public async Task KeepFencedAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        if (!layout.IsFencedOnDisk(instance, member))
        {
            await builder.FenceAsync(instance, member, member.Detail ?? "fenced", cancellationToken);
        }
        else
        {
            await layout.Runtime.StopAsync(layout.Member(instance, member), 9, TimeSpan.Zero, cancellationToken);
        }
    }

    /// <summary>
    /// Makes the recorded view agree with the servers: the member that says it is not in recovery (the newest
    /// timeline if several do) is the primary; any other primary is fenced. Runs before anything else is decided.
    /// </summary>
    public async Task VerifyViewAsync(ServiceInstance instance, HaWatch watch, CancellationToken cancellationToken)
    {
        var members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        var seen = new List<(HaMember Member, MemberObservation Observation)>();
        foreach (var member in members.Where(m => m.Role is MemberRole.Primary or MemberRole.Standby))
        {
            if (layout.Runtime.GetStatus(layout.Member(instance, member)) is not ProcessStatus.Running)
            {
                continue;
            }

            try
            {
                seen.Add((member, await ObserveAsync(instance, member, cancellationToken)));
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Not answering: the normal checks decide about it.
            }
        }

        var primaries = seen.Where(s => !s.Observation.InRecovery).OrderByDescending(s => s.Observation.Timeline).ThenByDescending(s => s.Observation.Position).ToList();
        if (primaries.Count == 0)
        {
            return;
        }

        var chosen = primaries[0].Member;
        watch.Timeline = primaries[0].Observation.Timeline;
        foreach (var (other, _) in primaries.Skip(1))
        {
            await FenceRecordedAsync(instance, other, null, $"a second primary ({other.Name}) was found beside {chosen.Name} on an older timeline or position", cancellationToken);
        }

        var recorded = members.FirstOrDefault(m => m.Role == MemberRole.Primary);
        if (recorded?.Name != chosen.Name)
        {
            HaLog.ViewCorrected(logger, instance.Id, chosen.Name);
            if (recorded is not null && primaries.All(p => p.Member.Name != recorded.Name))
            {
                await FenceRecordedAsync(instance, recorded, null, $"the servers say {chosen.Name} is the primary", cancellationToken);
            }

            await memberStore.SaveMemberAsync(chosen with { Role = MemberRole.Primary, Detail = "primary (confirmed by the servers after a broker restart)", UpdatedAt = time.GetUtcNow() }, cancellationToken);
        }

        await FollowAsync(instance, chosen, cancellationToken);
    }

    public async Task FailoverAsync(ServiceInstance instance, HaWatch watch, HaMember? failed, string reason, Diagnosis diagnosis, Dictionary<string, object?> evidence, CancellationToken cancellationToken)
    {
        if (watch.Blocked is not null)
        {
            return; // already reported; waits for an operator (or the primary answering again)
        }

        var now = time.GetUtcNow();
        HaLog.PrimaryFailed(logger, instance.Id, failed?.Name ?? "(none)", reason);
        evidence["ha_member"] = failed?.Name;
        evidence["class_evidence"] = diagnosis.Evidence;
        evidence["primary_flush_lsn_last_seen"] = Lsn.Format(watch.PrimaryLsn);
        evidence["acknowledged_lsn_at_least"] = Lsn.Format(watch.AcknowledgedLsn);
        evidence["timeline_before"] = watch.Timeline;
        var incident = new Incident
        {
            Id = "inc-" + Secrets.Token(12),
            InstanceId = instance.Id,
            Class = diagnosis.Class,
            State = IncidentState.Open,
            Summary = $"primary {failed?.Name ?? "(unknown)"} failed ({diagnosis.Class.Name()}: {diagnosis.Evidence}); failing over",
            Evidence = evidence,
            OpenedAt = now,
            UpdatedAt = now,
        }.With(now, "detected", reason).With(now, "classified", $"{diagnosis.Class.Name()}: {diagnosis.Evidence}");

        var recent = (await store.ListIncidentsAsync(instance.Id, cancellationToken))
            .Count(i => i.Timeline.Any(e => e.Kind == "promoted" && now - e.At < options.FailoverWindow));
        if (recent >= options.FailoverLimit)
        {
            await RefuseAsync(instance, watch, incident, $"the failover budget of {options.FailoverLimit} within {options.FailoverWindow.TotalMinutes:0.#} min is spent (flapping); nothing is promoted", cancellationToken);
            return;
        }

        // Fence first: recorded, killed, cut. From here on the old primary cannot take a single write.
        if (failed is not null)
        {
            incident = await FenceRecordedAsync(instance, failed, incident, reason, cancellationToken);
        }

        var members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        var candidates = new List<(HaMember Member, MemberObservation? Observation, string? Error)>();
        foreach (var standby in members.Where(m => m.Role == MemberRole.Standby))
        {
            try
            {
                candidates.Add((standby, await ObserveAsync(instance, standby, cancellationToken), null));
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                candidates.Add((standby, null, ex is OperationCanceledException ? "no answer" : ex.Message));
            }
        }

        evidence["standbys_at_failover"] = candidates.Select(c => new Dictionary<string, object?>
        {
            ["member"] = c.Member.Name,
            ["receive_lsn"] = Lsn.Format(c.Observation?.ReceiveLsn),
            ["replay_lsn"] = Lsn.Format(c.Observation?.ReplayLsn),
            ["timeline"] = c.Observation?.Timeline,
            ["error"] = c.Error,
        }).ToList();
        var eligible = candidates
            .Where(c => c.Observation is { InRecovery: true } o && o.Position >= watch.AcknowledgedLsn && (watch.Timeline == 0 || o.Timeline == watch.Timeline))
            .OrderByDescending(c => c.Observation!.Position).ThenBy(c => c.Member.Slot)
            .ToList();
        incident = incident with { Evidence = evidence };
        if (eligible.Count == 0)
        {
            await RefuseAsync(instance, watch, incident, $"no standby holds every acknowledged write (at least {Lsn.Format(watch.AcknowledgedLsn)} on timeline {watch.Timeline}); promoting one would lose data", cancellationToken);
            return;
        }

        var (chosen, observed, _) = eligible[0];
        var context = layout.Context(instance, chosen);

        // Nothing it received may be left unreplayed: promotion ends recovery where replay stands. It leaves the
        // read-only endpoint first: a connection there must never reach a primary.
        await proxy.LeaveReadOnlyAsync(instance, chosen, cancellationToken);
        await Replication(instance).PromoteAsync(context, cancellationToken);
        await memberStore.SaveMemberAsync(chosen with { Role = MemberRole.Primary, Detail = $"promoted when {failed?.Name ?? "the primary"} failed", UpdatedAt = time.GetUtcNow() }, cancellationToken);
        var after = await ObserveAsync(instance, chosen, cancellationToken);
        evidence["promoted_member"] = chosen.Name;
        evidence["promoted_at_lsn"] = Lsn.Format(observed!.Position);
        var synchronous = Replication(instance).Synchronous;
        if (!synchronous)
        {
            // Asynchronous replication: what the old primary had been seen to hold beyond the promoted position
            // is lost (a lower bound: it may have acknowledged more after its last check).
            evidence["replication"] = "asynchronous";
            evidence["primary_offset_last_seen"] = watch.PrimaryLsn;
            evidence["promoted_at_offset"] = observed.Position;
            evidence["lost_bytes_at_least"] = watch.PrimaryLsn is { } last && last > observed.Position ? last - observed.Position : 0UL;
        }

        evidence["timeline_after"] = after.Timeline;
        watch.Timeline = after.Timeline;
        watch.PrimaryFailures = 0;
        watch.PrimaryLsn = after.FlushLsn;
        registry.CountFailover(instance.Id);
        now = time.GetUtcNow();
        incident = incident.With(now, "promoted", $"{chosen.Name} promoted at {Lsn.Format(observed.Position)} (most advanced eligible standby, acknowledged writes reach {Lsn.Format(watch.AcknowledgedLsn)}); timeline {evidence["timeline_before"]} → {after.Timeline}") with { Evidence = evidence };
        await store.SaveIncidentAsync(incident, cancellationToken);
        HaLog.Promoted(logger, instance.Id, chosen.Name, Lsn.Format(observed.Position), after.Timeline);

        await FollowAsync(instance, chosen with { Role = MemberRole.Primary }, cancellationToken);
        now = time.GetUtcNow();
        incident = incident.With(now, "routed", $"the endpoint on port {instance.Port} leads to {chosen.Name} (port {chosen.Port}); the other standbys follow it") with
        {
            Summary = $"primary {failed?.Name ?? "(unknown)"} failed ({diagnosis.Class.Name()}); {chosen.Name} promoted, " +
                (synchronous ? "no acknowledged write lost" : "asynchronous replication: writes the old primary acknowledged but had not sent are lost (see lost_bytes_at_least)") + (failed is null ? string.Empty : $"; {failed.Name} fenced and preserved in {layout.Member(instance, failed).Root}"),
        };
        await store.SaveIncidentAsync(incident, cancellationToken);
    }

    /// <summary>Fences a failed standby (preserved for inspection); <see cref="EnsureRedundancyAsync"/> builds its replacement.</summary>
    public async Task ReplaceStandbyAsync(ServiceInstance instance, HaWatch watch, HaMember failed, string reason, Diagnosis diagnosis, Dictionary<string, object?> evidence, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        evidence["ha_member"] = failed.Name;
        evidence["class_evidence"] = diagnosis.Evidence;
        var incident = new Incident
        {
            Id = "inc-" + Secrets.Token(12),
            InstanceId = instance.Id,
            Class = diagnosis.Class,
            State = IncidentState.Open,
            Summary = $"standby {failed.Name} failed ({diagnosis.Class.Name()}: {diagnosis.Evidence}); the primary keeps committing; a new standby replaces it",
            Evidence = evidence,
            OpenedAt = now,
            UpdatedAt = now,
        }.With(now, "detected", reason).With(now, "classified", $"{diagnosis.Class.Name()}: {diagnosis.Evidence}");
        await FenceRecordedAsync(instance, failed, incident, reason, cancellationToken);
        watch.StandbyFailures.TryRemove(failed.Name, out _);
        watch.NextBuildAt = time.GetUtcNow();
    }

    /// <summary>Builds standbys until every slot has a live member again, then resolves the incidents that are waiting for it.</summary>
    public async Task EnsureRedundancyAsync(ServiceInstance instance, HaWatch watch, CancellationToken cancellationToken)
    {
        var size = engines.Plan(instance.ServiceId, instance.PlanId).Members;
        var members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        var primary = members.FirstOrDefault(m => m.Role == MemberRole.Primary);
        if (primary is null)
        {
            return;
        }

        var live = members.Where(m => m.Role != MemberRole.Fenced).ToList();
        for (var slot = 1; slot <= size; slot++)
        {
            if (live.Any(m => m.Slot == slot))
            {
                continue;
            }

            var next = layout.NextMemberNumber(instance, members);
            var port = members.LastOrDefault(m => m.Slot == slot)?.Port ?? throw new InvalidOperationException($"slot {slot} of {instance.Id} has no port");
            var member = new HaMember
            {
                InstanceId = instance.Id,
                Name = "m" + next.ToString(CultureInfo.InvariantCulture),
                Slot = slot,
                Port = port,
                Role = MemberRole.Building,
                Detail = $"replaces the fenced member of slot {slot}",
                CreatedAt = time.GetUtcNow(),
                UpdatedAt = time.GetUtcNow(),
            };
            await memberStore.SaveMemberAsync(member, cancellationToken);
            members = [.. members, member];
            live.Add(member);
        }

        foreach (var building in live.Where(m => m.Role == MemberRole.Building))
        {
            if (time.GetUtcNow() < watch.NextBuildAt)
            {
                return;
            }

            try
            {
                registry.Set(instance.Id, building.Name, new MemberView(time.GetUtcNow(), "building", null, null, null));
                await builder.BuildStandbyAsync(instance, building, primary, size, cancellationToken);
                await memberStore.SaveMemberAsync(building with { Role = MemberRole.Standby, Detail = $"cloned from {primary.Name}", UpdatedAt = time.GetUtcNow() }, cancellationToken);
                watch.BuildFailures = 0;
                HaLog.StandbyBuilt(logger, instance.Id, building.Name, building.Port);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                watch.BuildFailures++;
                watch.NextBuildAt = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, watch.BuildFailures)));
                registry.Set(instance.Id, building.Name, new MemberView(time.GetUtcNow(), "building failed", null, null, ex.Message));
                HaLog.CheckFailed(logger, instance.Id, ex);
                return;
            }
        }

        if (live.Any(m => m.Role == MemberRole.Building))
        {
            members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
            if (members.Any(m => m.Role == MemberRole.Building))
            {
                return;
            }
        }

        foreach (var open in (await store.ListIncidentsAsync(instance.Id, cancellationToken)).Where(i => i.State == IncidentState.Open && i.Evidence.ContainsKey("ha_member")))
        {
            if (open.Timeline.Any(e => e.Kind == "refused"))
            {
                continue;
            }

            var now = time.GetUtcNow();
            var resolved = open with { State = IncidentState.Resolved };
            await store.SaveIncidentAsync(resolved.With(now, "redundant", $"back to full redundancy: primary {primary.Name} and {size - 1} standbys"), cancellationToken);
        }
    }

    /// <summary>Leads the endpoint and every standby to <paramref name="primary"/>.</summary>
    public async Task FollowAsync(ServiceInstance instance, HaMember primary, CancellationToken cancellationToken)
    {
        var members = await memberStore.ListMembersAsync(instance.Id, cancellationToken);
        var size = engines.Plan(instance.ServiceId, instance.PlanId).Members;
        await Replication(instance).ConfigureMemberAsync(layout.Context(instance, primary), layout.Role(instance, primary, primary, size), cancellationToken);
        try
        {
            await builder.ReconcileUsersAsync(instance, primary, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            HaLog.CheckFailed(logger, instance.Id, ex); // retried at the next follow; the endpoint is led to the primary regardless
        }

        foreach (var standby in members.Where(m => m.Role == MemberRole.Standby))
        {
            var context = layout.Context(instance, standby);
            await Replication(instance).ConfigureMemberAsync(context, layout.Role(instance, standby, primary, size), cancellationToken);
            try
            {
                await Replication(instance).ReloadAsync(context, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                HaLog.CheckFailed(logger, instance.Id, ex); // a standby that does not answer is replaced by the checks
            }
        }

        await proxy.RouteAsync(instance, Slots(members), primary, cancellationToken);
    }

    private async Task<Incident> FenceRecordedAsync(ServiceInstance instance, HaMember member, Incident? incident, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var path = layout.Member(instance, member).Root;
        incident ??= new Incident
        {
            Id = "inc-" + Secrets.Token(12),
            InstanceId = instance.Id,
            Class = FailureClass.Unknown,
            State = IncidentState.Open,
            Summary = $"member {member.Name} fenced: {reason}",
            Evidence = new Dictionary<string, object?> { ["ha_member"] = member.Name },
            OpenedAt = now,
            UpdatedAt = now,
        };
        await memberStore.SaveMemberAsync(member with { Role = MemberRole.Fenced, IncidentId = incident.Id, Detail = $"fenced: {reason}", UpdatedAt = now }, cancellationToken);
        await builder.FenceAsync(instance, member, reason, cancellationToken);
        try
        {
            await proxy.CutAsync(instance, member, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            HaLog.CheckFailed(logger, instance.Id, ex); // the proxy is restarted with the right routing by the checks
        }

        HaLog.Fenced(logger, instance.Id, member.Name, path);
        incident = incident.With(time.GetUtcNow(), "fenced", $"{member.Name} (port {member.Port}) killed with every process of it, recorded as fenced and marked so nothing starts it again; its connections through the endpoint are cut; files preserved in {path}") with { PreservedPath = path };
        await store.SaveIncidentAsync(incident, cancellationToken);
        return incident;
    }

    private async Task RefuseAsync(ServiceInstance instance, HaWatch watch, Incident incident, string why, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        watch.Blocked = why;
        HaLog.NoFailover(logger, instance.Id, why);
        incident = incident.With(now, "refused", why) with { Summary = incident.Summary.Replace("; failing over", string.Empty, StringComparison.Ordinal) + "; not failed over: " + why };
        await store.SaveIncidentAsync(incident, cancellationToken);
        health.Set(new InstanceHealth(instance.Id, HealthStatus.Failed, now, "no failover: " + why) { OpenIncidentId = incident.Id });
    }

    private async Task<MemberObservation> ObserveAsync(ServiceInstance instance, HaMember member, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CheckTimeout);
        return await Replication(instance).ObserveAsync(layout.Context(instance, member), timeout.Token);
    }
}

using Microsoft.AspNetCore.Mvc;
using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Verify;
using Steward.Errors;
using Steward.Instances;
using Steward.Runtime;
using Steward.Security;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Repair;

/// <summary>
/// <c>POST /api/v1/instances/{id}/verify</c> (docs/repair.md): checks a live PostgreSQL instance for damaged pages and
/// answers what it found; damage found is an incident (class data-corruption) naming the relations, files and
/// blocks. On the scoped group: an instance token verifies its own instance.
/// </summary>
internal static class VerifyApi
{
    public static IEndpointRouteBuilder MapVerifyApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/instances/{instanceId}/verify", async (string instanceId, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] PostgreSqlVerifier verifier, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            var instance = await store.GetInstanceAsync(instanceId, ct);
            if (instance is null || instance.State is InstanceState.Deleted or InstanceState.Provisioning or InstanceState.Failed)
            {
                throw StewardException.NotFound($"instance {instanceId} does not exist");
            }

            if (engines.Engine(instance.ServiceId) is not PostgreSqlEngine)
            {
                throw StewardException.BadRequest($"instance {instanceId} is not PostgreSQL: Redis keeps no page checksums to verify; prove its backups with steward rehearse {instanceId}, and recover a damaged instance with steward rebuild {instanceId}");
            }

            var context = engines.Context(instance);
            if (engines.Runtime.GetStatus(context.Paths) is not ProcessStatus.Running)
            {
                throw StewardException.Concurrency($"instance {instanceId} is not running; verify reads through its server");
            }

            var started = time.GetTimestamp();
            var report = await verifier.VerifyAsync(context, engines.Runtime.ServerLogSinceLastStart(context.Paths, 2000), ct, await RepairHistory.LastRepairedAtAsync(store, instance.Id, ct));
            var incident = report.Clean ? null : await RecordAsync(store, instance, report, time, ct);
            return OsbJson.Result(new
            {
                instance_id = instance.Id,
                clean = report.Clean,
                relations_checked = report.RelationsChecked,
                damaged = report.Damaged.Select(d => new { database = d.Database, relation = d.Relation, file = d.File, blocks = d.Blocks, found_by = d.FoundBy }),
                checksum_failures = report.ChecksumFailures.Where(p => p.Value > 0).ToDictionary(p => p.Key, p => p.Value),
                evidence = report.Evidence,
                incident_id = incident,
                seconds = Math.Round(time.GetElapsedTime(started).TotalSeconds, 2),
            });
        });
        return api;
    }

    private static async Task<string> RecordAsync(IStateStore store, ServiceInstance instance, VerifyReport report, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var where = report.Damaged.Count == 0
            ? "checksum failures counted by the server (pg_stat_database.checksum_failures) or reported by pg_amcheck"
            : string.Join("; ", report.Damaged.Select(d => $"{d.Relation ?? "an unknown relation"} in database {d.Database} (file {d.File}, block{(d.Blocks.Count == 1 ? string.Empty : "s")} {string.Join(", ", d.Blocks)})"));
        var incident = new Incident
        {
            Id = "inc-" + Secrets.Token(12),
            InstanceId = instance.Id,
            Class = FailureClass.DataCorruption,
            State = IncidentState.Open,
            Summary = $"instance {instance.Id}: damaged data pages: {where}",
            Evidence = new Dictionary<string, object?>
            {
                ["damaged"] = report.Damaged.Select(d => new Dictionary<string, object?> { ["database"] = d.Database, ["relation"] = d.Relation, ["file"] = d.File, ["blocks"] = d.Blocks, ["found_by"] = d.FoundBy }).ToList(),
                ["checksum_failures"] = report.ChecksumFailures.Where(p => p.Value > 0).ToDictionary(p => p.Key, p => (object?)p.Value),
                ["evidence"] = report.Evidence,
                ["found_by"] = "steward verify (pg_amcheck --heapallindexed, pg_stat_database.checksum_failures, the server log)",
                ["what_to_do"] = $"steward repair {instance.Id} replaces only the damaged pages from a copy at its live point (steward repair {instance.Id} --dry-run lists them); steward rebuild {instance.Id} recreates it from its latest recoverable point, keeping the damaged files for inspection",
            },
            OpenedAt = now,
            UpdatedAt = now,
        };
        await store.SaveIncidentAsync(incident.With(now, "damage-found", incident.Summary), ct);
        return incident.Id;
    }
}

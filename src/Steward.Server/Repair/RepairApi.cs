using Microsoft.AspNetCore.Mvc;
using Steward.Errors;
using Steward.Instances;
using Steward.Server.Broker;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;

namespace Steward.Server.Repair;

/// <summary>
/// <c>POST /api/v1/instances/{id}/repair</c> with an optional body <c>{"dry_run": true}</c> (docs/repair.md): plans
/// the repair (refusing with the reason when none can be done) and answers the plan; without dry_run it also starts
/// the repair operation (202). On the scoped group: an instance token repairs its own instance.
/// </summary>
internal static class RepairApi
{
    public static IEndpointRouteBuilder MapRepairApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/instances/{instanceId}/repair", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] RepairPlanner planner, [FromServices] InstanceBroker broker, [FromServices] PortAllocator ports, [FromServices] StewardOptions options, CancellationToken ct) =>
        {
            var dryRun = false;
            if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
            {
                var body = await RequestBody.ReadAsync(http.Request, options.MaxBodyBytes, ct);
                if (body.FieldNames.FirstOrDefault(f => f != "dry_run") is { } unknown)
                {
                    throw StewardException.BadRequest($"body: unknown field '{unknown}'; a repair takes dry_run");
                }

                dryRun = body.OptionalBoolean("dry_run") ?? false;
            }

            InstanceBroker.RequireValidId("instance_id", instanceId);
            var instance = await store.GetInstanceAsync(instanceId, ct);
            if (instance is null || instance.State is InstanceState.Deleted or InstanceState.Provisioning or InstanceState.Failed)
            {
                throw StewardException.NotFound($"instance {instanceId} does not exist");
            }

            var plan = await planner.PlanAsync(instance, ct);
            if (dryRun)
            {
                return OsbJson.Result(Describe(plan, dryRun: true, null, null));
            }

            (string Operation, string Incident)? started = null;
            await ports.AllocateAsync(async port => started = await broker.StartRepairAsync(instance, plan, port, RequestIdentity.From(http.Request), ct), ct);
            return OsbJson.Result(Describe(plan, dryRun: false, started!.Value.Operation, started.Value.Incident), StatusCodes.Status202Accepted);
        });
        return api;
    }

    private static object Describe(RepairPlan plan, bool dryRun, string? operation, string? incident) => new
    {
        instance_id = plan.InstanceId,
        dry_run = dryRun,
        operation,
        incident_id = incident,
        found_by = plan.FoundBy,
        backup_id = plan.BackupId,
        wal = new { from_lsn = plan.BaseStopLsn, to_lsn = plan.LiveLsn, timeline = plan.Timeline, archived_segments = plan.ArchivedSegments, unarchived_segments = plan.UnarchivedSegments },
        pages = plan.Pages,
        whole_files = plan.WholeFiles,
        bytes = plan.Bytes,
        replace = plan.Items.Select(i => new { database = i.Database, relation = i.Relation, file = i.File, blocks = i.Blocks, whole_file = i.WholeFile, bytes = i.Bytes, why = i.Why }),
        summary = (dryRun ? "would replace " : "replacing ") + plan.Describe(),
    };
}

using System.Net;
using System.Text.Json;
using Spectre.Console;

namespace Steward.Cli;

/// <summary>Handlers of the instance lifecycle commands.</summary>
internal static class InstanceCommands
{
    public static async Task<int> CatalogAsync(StewardClient client, bool json, CancellationToken ct)
    {
        var (_, catalog) = await client.ExpectAsync(HttpMethod.Get, "/v2/catalog", null, ct, HttpStatusCode.OK);
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(catalog));
            return ExitCodes.Success;
        }

        var table = new Listing(Listing.Whole("service"), Listing.Whole("plan"), Listing.Wraps("memory"), Listing.Wraps("connections"), Listing.Wraps("description"));
        foreach (var s in catalog.GetProperty("services").EnumerateArray())
        {
            foreach (var p in s.GetProperty("plans").EnumerateArray())
            {
                var meta = p.GetProperty("metadata");
                table.Add(
                    s.GetProperty("name").GetString(),
                    p.GetProperty("name").GetString(),
                    $"{meta.GetProperty("memory_mb").GetInt32()} MB",
                    meta.GetProperty("max_connections").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    p.GetProperty("description").GetString());
            }
        }

        table.Write();
        return ExitCodes.Success;
    }

    /// <summary>
    /// Where a clone's data comes from: another instance's backup (its latest by default) or a point in its archived
    /// WAL, with that instance's token when it is in another organization or space.
    /// </summary>
    public sealed record CloneFrom(string Instance, string? Backup, string? Token, string? ToTime = null, string? ToLsn = null, string? ToRestorePoint = null, bool Latest = false);

    public static async Task<int> CreateAsync(StewardClient client, string service, string plan, string? id, string[]? parameters, PlatformGuids guids, bool wait, CancellationToken ct, CloneFrom? clone = null)
    {
        var (serviceId, planId, serviceName, planName) = await client.ResolvePlanAsync(service, plan, ct);
        var sent = Parameters.Parse(parameters);
        if (clone is not null)
        {
            sent ??= [];
            var from = new System.Text.Json.Nodes.JsonObject { ["instance_id"] = clone.Instance };
            if (clone.Backup is not null)
            {
                from["backup_id"] = clone.Backup;
            }

            foreach (var (key, value) in new (string, string?)[] { ("to_time", clone.ToTime), ("to_lsn", clone.ToLsn), ("to_restore_point", clone.ToRestorePoint), ("token", clone.Token) })
            {
                if (value is not null)
                {
                    from[key] = value;
                }
            }

            if (clone.Latest)
            {
                from["latest"] = true;
            }

            sent["clone_from"] = from;
        }

        id ??= $"{serviceName}-{Guid.NewGuid().ToString("N")[..8]}";
        var (status, body) = await client.ExpectAsync(
            HttpMethod.Put,
            $"/v2/service_instances/{Uri.EscapeDataString(id)}?accepts_incomplete=true",
            new { service_id = serviceId, plan_id = planId, organization_guid = guids.Organization, space_guid = guids.Space, parameters = sent },
            ct,
            HttpStatusCode.Accepted,
            HttpStatusCode.OK);
        Console.WriteLine(id);
        if (status == HttpStatusCode.OK)
        {
            Console.Error.WriteLine($"instance {id} ({serviceName} {planName}) already exists with these settings");
            return ExitCodes.Success;
        }

        var operation = body.GetProperty("operation").GetString();
        return !wait || await OperationWaiter.WaitAsync(client, id, operation, "creating", ct) ? ExitCodes.Success : ExitCodes.Failed;
    }

    public static async Task<int> UpdateAsync(StewardClient client, string id, string? plan, string[]? parameters, bool wait, CancellationToken ct)
    {
        var instance = await client.InstanceAsync(id, ct);
        var serviceId = instance.GetProperty("service_id").GetString()!;
        string? planId = null;
        if (plan is not null)
        {
            (_, planId, _, _) = await client.ResolvePlanAsync(serviceId, plan, ct);
        }

        var (status, body) = await client.ExpectAsync(
            HttpMethod.Patch,
            $"/v2/service_instances/{Uri.EscapeDataString(id)}?accepts_incomplete=true",
            new { service_id = serviceId, plan_id = planId, parameters = Parameters.Parse(parameters) },
            ct,
            HttpStatusCode.Accepted,
            HttpStatusCode.OK);
        if (status == HttpStatusCode.OK)
        {
            Console.Error.WriteLine($"instance {id} already has these settings; nothing to do");
            return ExitCodes.Success;
        }

        var operation = body.GetProperty("operation").GetString();
        return !wait || await OperationWaiter.WaitAsync(client, id, operation, "updating", ct) ? ExitCodes.Success : ExitCodes.Failed;
    }

    public static async Task<int> DeleteAsync(StewardClient client, string id, bool wait, CancellationToken ct)
    {
        var instance = await client.InstanceAsync(id, ct);
        var (_, body) = await client.ExpectAsync(
            HttpMethod.Delete,
            $"/v2/service_instances/{Uri.EscapeDataString(id)}?accepts_incomplete=true&service_id={instance.GetProperty("service_id").GetString()}&plan_id={instance.GetProperty("plan_id").GetString()}",
            null,
            ct,
            HttpStatusCode.Accepted);
        var operation = body.GetProperty("operation").GetString();
        return !wait || await OperationWaiter.WaitAsync(client, id, operation, "deleting", ct) ? ExitCodes.Success : ExitCodes.Failed;
    }

    public static async Task<int> ListAsync(StewardClient client, bool json, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, "/api/v1/instances", null, ct, HttpStatusCode.OK);
        var instances = body.GetProperty("instances");
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(instances));
            return ExitCodes.Success;
        }

        var table = new Listing(Listing.Whole("id"), Listing.Wraps("service"), Listing.Wraps("plan"), Listing.Wraps("state"), Listing.Wraps("health"), Listing.Whole("port"), Listing.Wraps("process"), Listing.Wraps("bindings"), Listing.Wraps("last operation"));
        foreach (var i in instances.EnumerateArray())
        {
            table.Add(
                i.GetProperty("id").GetString(),
                i.GetProperty("service").GetString(),
                i.GetProperty("plan").GetString() ?? "?",
                i.GetProperty("state").GetString(),
                i.GetProperty("health").GetProperty("status").GetString(),
                i.TryGetProperty("port", out var port) ? port.ToString() : "-",
                i.GetProperty("process").GetProperty("detail").GetString(),
                i.GetProperty("bindings").GetArrayLength().ToString(System.Globalization.CultureInfo.InvariantCulture),
                LastOperation(i));
        }

        table.Write();
        return ExitCodes.Success;
    }

    public static async Task<int> ShowAsync(StewardClient client, string id, bool json, CancellationToken ct)
    {
        var i = await client.InstanceAsync(id, ct);
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(i));
            return ExitCodes.Success;
        }

        var fields = new Fields();
        void Row(string k, string? v) => fields.Add(k, v);
        Row("id", i.GetProperty("id").GetString());
        Row("service", i.GetProperty("service").GetString());
        Row("plan", i.GetProperty("plan").GetString());
        Row("state", i.GetProperty("state").GetString());
        Row("address", i.TryGetProperty("port", out var port) ? $"{i.GetProperty("host").GetString()}:{port}" : null);
        Row("process", i.GetProperty("process").GetProperty("detail").GetString());
        Row("health", $"{i.GetProperty("health").GetProperty("status").GetString()}: {i.GetProperty("health").GetProperty("detail").GetString()}");
        Row("parameters", i.GetProperty("parameters").GetRawText());
        Row("directory", i.GetProperty("directory").GetString());
        Row("bindings", string.Join(", ", i.GetProperty("bindings").EnumerateArray().Select(b => b.GetProperty("id").GetString())));
        Row("last operation", LastOperation(i));
        Row("created", i.GetProperty("created_at").GetString());
        fields.Write();
        if (i.TryGetProperty("members", out var members) && members.ValueKind == JsonValueKind.Array)
        {
            HaCommands.WriteMembers(members);
        }
        return ExitCodes.Success;
    }

    private static string LastOperation(JsonElement instance) =>
        instance.TryGetProperty("last_operation", out var op) && op.ValueKind == JsonValueKind.Object
            ? $"{op.GetProperty("kind").GetString()} {op.GetProperty("state").GetString()}: {op.GetProperty("description").GetString()}"
            : "-";
}

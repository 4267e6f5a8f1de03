using System.Net;
using Spectre.Console;

namespace Steward.Cli;

/// <summary>Handlers of bind and unbind.</summary>
internal static class BindingCommands
{
    public static async Task<int> BindAsync(StewardClient client, string id, string? bindingId, string[]? parameters, bool json, CancellationToken ct)
    {
        var instance = await client.InstanceAsync(id, ct);
        bindingId ??= "binding-" + Guid.NewGuid().ToString("N")[..8];
        var (_, body) = await client.ExpectAsync(
            HttpMethod.Put,
            $"/v2/service_instances/{Uri.EscapeDataString(id)}/service_bindings/{Uri.EscapeDataString(bindingId)}",
            new { service_id = instance.GetProperty("service_id").GetString(), plan_id = instance.GetProperty("plan_id").GetString(), parameters = Parameters.Parse(parameters) },
            ct,
            HttpStatusCode.Created,
            HttpStatusCode.OK);
        var credentials = body.GetProperty("credentials");
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(credentials));
            return ExitCodes.Success;
        }

        // One "key: value" line per credential, never wrapped by the CLI: a copied URI or password is whole.
        var fields = new Fields().Add("binding", bindingId);
        foreach (var p in credentials.EnumerateObject())
        {
            if (p.Value.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                foreach (var inner in p.Value.EnumerateObject())
                {
                    fields.Add($"{p.Name}.{inner.Name}", inner.Value.ToString());
                }
            }
            else
            {
                fields.Add(p.Name, p.Value.ToString());
            }
        }

        fields.Write();
        return ExitCodes.Success;
    }

    public static async Task<int> UnbindAsync(StewardClient client, string id, string bindingId, CancellationToken ct)
    {
        var instance = await client.InstanceAsync(id, ct);
        await client.ExpectAsync(
            HttpMethod.Delete,
            $"/v2/service_instances/{Uri.EscapeDataString(id)}/service_bindings/{Uri.EscapeDataString(bindingId)}?service_id={instance.GetProperty("service_id").GetString()}&plan_id={instance.GetProperty("plan_id").GetString()}",
            null,
            ct,
            HttpStatusCode.OK);
        Console.Error.WriteLine($"binding {bindingId} removed; its credentials no longer work");
        return ExitCodes.Success;
    }
}

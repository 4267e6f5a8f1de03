using System.Text.Json.Nodes;
using Steward.Catalog;

namespace Steward.Server.Osb;

/// <summary>Renders the service offerings as the OSB catalog document.</summary>
internal static class CatalogDocument
{
    public static JsonObject Render(IEnumerable<ServiceOffering> offerings) => new()
    {
        ["services"] = new JsonArray(offerings.Select(Service).ToArray<JsonNode?>()),
    };

    private static JsonObject Service(ServiceOffering s) => new()
    {
        ["id"] = s.Id,
        ["name"] = s.Name,
        ["description"] = s.Description,
        ["tags"] = new JsonArray(s.Tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
        ["requires"] = new JsonArray(),
        ["bindable"] = s.Bindable,
        ["instances_retrievable"] = true,
        ["bindings_retrievable"] = true,
        ["allow_context_updates"] = false,
        ["plan_updateable"] = s.PlanUpdateable,
        ["metadata"] = new JsonObject { ["displayName"] = s.Name, ["providerDisplayName"] = "Steward" },
        ["plans"] = new JsonArray(s.Plans.Select(p => (JsonNode?)Plan(s, p)).ToArray()),
    };

    private static JsonObject Plan(ServiceOffering s, ServicePlan p) => new()
    {
        ["id"] = p.Id,
        ["name"] = p.Name,
        ["description"] = p.Description,
        ["free"] = p.Free,
        ["bindable"] = s.Bindable,
        ["plan_updateable"] = s.PlanUpdateable,
        ["maintenance_info"] = new JsonObject { ["version"] = p.MaintenanceInfo.Version, ["description"] = p.MaintenanceInfo.Description },
        ["metadata"] = new JsonObject
        {
            ["displayName"] = p.Name,
            ["memory_mb"] = p.Limits.MemoryMb,
            ["max_connections"] = p.Limits.MaxConnections,
            ["bullets"] = new JsonArray($"{p.Limits.MemoryMb} MB memory", $"{p.Limits.MaxConnections} connections"),
        },
        ["schemas"] = new JsonObject
        {
            ["service_instance"] = new JsonObject
            {
                ["create"] = new JsonObject { ["parameters"] = p.ProvisionSchema.ToJsonSchema() },
                ["update"] = new JsonObject { ["parameters"] = p.UpdateSchema.ToJsonSchema() },
            },
            ["service_binding"] = new JsonObject
            {
                ["create"] = new JsonObject { ["parameters"] = p.BindSchema.ToJsonSchema() },
            },
        },
    };
}

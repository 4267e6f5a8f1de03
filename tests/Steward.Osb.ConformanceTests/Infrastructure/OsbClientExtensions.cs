using System.Net;
using System.Text;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>Requests the harness's client lacks: raw bodies, foreign credentials, Steward's own listing.</summary>
public static class OsbClientExtensions
{
    public const string AcceptsIncomplete = "?accepts_incomplete=true";

    /// <summary>A provision request body as JSON text, with the fields a platform always sends.</summary>
    public static string ProvisionBody(string serviceId, string planId, object? parameters = null, object? maintenanceInfo = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["service_id"] = serviceId,
            ["plan_id"] = planId,
            ["organization_guid"] = "org-1",
            ["space_guid"] = "space-1",
            ["parameters"] = parameters,
            ["maintenance_info"] = maintenanceInfo,
        }.Where(f => f.Value is not null).ToDictionary());

    /// <summary>PUT /v2/service_instances/{id} with <paramref name="json"/> sent as it is.</summary>
    public static Task<Reply> PutInstanceRawAsync(this OsbClient osb, string id, string json, string query = AcceptsIncomplete) =>
        osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}{query}", json);

    /// <summary>PATCH /v2/service_instances/{id} with a body of the given fields.</summary>
    public static Task<Reply> PatchInstanceAsync(this OsbClient osb, string id, IDictionary<string, object?> body, string query = AcceptsIncomplete) =>
        osb.SendAsync(HttpMethod.Patch, $"/v2/service_instances/{id}{query}", JsonSerializer.Serialize(body));

    /// <summary>The ids Steward's own API lists.</summary>
    public static async Task<IReadOnlyList<string>> InstanceIdsAsync(this OsbClient osb)
    {
        var reply = await osb.ApiAsync("/instances");
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
        return reply.Body.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>A client of the same broker that authenticates as someone else.</summary>
    public static OsbClient As(this StewardServer server, string username, string password) => new(server.Http, username, password);

    /// <summary>The Originating-Identity header value for <paramref name="json"/>.</summary>
    public static string OriginatingIdentity(string platform, string json) =>
        $"{platform} {Convert.ToBase64String(Encoding.UTF8.GetBytes(json))}";

    /// <summary>Runs one Redis command with a binding's credentials through the stock redis-cli and returns what the
    /// server answered (a refusal reads <c>NOPERM …</c> or <c>AUTH failed: WRONGPASS …</c>).</summary>
    public static Task<string> RedisAsync(JsonElement credentials, params string[] command) => RedisCli.RunAsync(credentials, command);
}

using System.Net;
using System.Text;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Security;

/// <summary>
/// Requests aimed at an existing instance that are hostile or ambiguous, sent byte for byte as an attacker
/// sends them (<see cref="RawHttp"/>). Each must be refused with an OSB error and leave the instance exactly
/// as it was: still provisioned, same plan, no new operation.
/// </summary>
[Collection(LifecycleCollection.Name)]
public sealed class HostileRequestTests(LifecycleFixture broker)
{
    private const string Redis = Catalogs.Redis;
    private const string RedisPlan = Catalogs.RedisStandalone;

    private OsbClient Osb => broker.Client;

    /// <summary>Spellings of '..' and '.' that servers decode and collapse before routing (RFC 3986 5.2.4).</summary>
    public static TheoryData<string> DotSegments => ["%2e%2e", "%2E.", ".%2e", "%2E%2E", "..", "%2e", "."];

    public static TheoryData<string> Bodies => ["provision", "update", "bind"];

    [Theory]
    [MemberData(nameof(DotSegments))]
    public async Task A_dot_segment_as_binding_id_is_refused_and_does_not_reach_the_instance(string segment)
    {
        var shared = await SharedAsync();
        var binding = $"/v2/service_instances/{shared.Id}/service_bindings/{segment}";
        var replies = new Dictionary<string, Reply>
        {
            ["DELETE"] = await RawHttp.SendAsync(broker.Server, "DELETE", $"{binding}?service_id={Redis}&plan_id={RedisPlan}&accepts_incomplete=true"),
            ["GET"] = await RawHttp.SendAsync(broker.Server, "GET", binding),
            ["PUT"] = await RawHttp.SendAsync(broker.Server, "PUT", $"{binding}?accepts_incomplete=true", OsbClientExtensions.ProvisionBody(Redis, RedisPlan)),
            ["PATCH"] = await RawHttp.SendAsync(broker.Server, "PATCH", $"{binding}?accepts_incomplete=true", $$$"""{"service_id":"{{{Redis}}}","parameters":{"appendonly":true}}"""),
            ["last_operation"] = await RawHttp.SendAsync(broker.Server, "GET", $"{binding}/last_operation"),
        };

        ShouldAllBeBadRequests(replies);
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [MemberData(nameof(DotSegments))]
    public async Task A_dot_segment_as_instance_id_is_refused(string segment)
    {
        var shared = await SharedAsync();
        var instance = $"/v2/service_instances/{segment}";
        var replies = new Dictionary<string, Reply>
        {
            ["DELETE"] = await RawHttp.SendAsync(broker.Server, "DELETE", $"{instance}/{shared.Id}?service_id={Redis}&plan_id={RedisPlan}&accepts_incomplete=true"),
            ["GET"] = await RawHttp.SendAsync(broker.Server, "GET", $"{instance}/service_instances/{shared.Id}"),
            ["last_operation"] = await RawHttp.SendAsync(broker.Server, "GET", $"{instance}/last_operation"),
            ["api"] = await RawHttp.SendAsync(broker.Server, "GET", $"/api/v1/instances/{shared.Id}/{segment}"),
        };

        ShouldAllBeBadRequests(replies);
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [InlineData("%2f")]
    [InlineData("%2F")]
    [InlineData("%5c")]
    public async Task An_encoded_slash_in_an_id_is_refused(string slash)
    {
        var shared = await SharedAsync();
        var replies = new Dictionary<string, Reply>
        {
            ["binding DELETE"] = await RawHttp.SendAsync(broker.Server, "DELETE", $"/v2/service_instances/{shared.Id}/service_bindings/x{slash}..{slash}..?service_id={Redis}&plan_id={RedisPlan}"),
            ["instance DELETE"] = await RawHttp.SendAsync(broker.Server, "DELETE", $"/v2/service_instances/x{slash}..{slash}{shared.Id}?service_id={Redis}&plan_id={RedisPlan}&accepts_incomplete=true"),
            ["instance GET"] = await RawHttp.SendAsync(broker.Server, "GET", $"/v2/service_instances/{shared.Id}{slash}last_operation"),
        };

        ShouldAllBeBadRequests(replies);
        await ShouldBeUnchangedAsync(shared);
    }

    [Fact]
    public async Task A_query_parameter_given_twice_is_refused_and_deletes_nothing()
    {
        var shared = await SharedAsync();
        var reply = await RawHttp.SendAsync(broker.Server, "DELETE", $"/v2/service_instances/{shared.Id}?service_id={Redis}&service_id=other&plan_id={RedisPlan}&accepts_incomplete=true");
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "service_id");
        var twice = await RawHttp.SendAsync(broker.Server, "PATCH", $"/v2/service_instances/{shared.Id}?accepts_incomplete=true&accepts_incomplete=false", $$$"""{"service_id":"{{{Redis}}}","parameters":{"appendonly":true}}""");
        twice.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "accepts_incomplete");
        await ShouldBeUnchangedAsync(shared);
    }

    [Fact]
    public async Task A_JSON_key_given_twice_is_refused_and_the_plan_stays()
    {
        var shared = await SharedAsync();
        var patch = $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","plan_id":"{{Catalogs.RedisLarge}}"}""";
        (await RawHttp.SendAsync(broker.Server, "PATCH", $"/v2/service_instances/{shared.Id}?accepts_incomplete=true", patch)).ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "plan_id");
        var nested = $$$"""{"service_id":"{{{Redis}}}","parameters":{"appendonly":false,"appendonly":true}}""";
        (await RawHttp.SendAsync(broker.Server, "PATCH", $"/v2/service_instances/{shared.Id}?accepts_incomplete=true", nested)).ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "parameters.appendonly");
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_lone_surrogate_or_invalid_UTF8_in_a_string_is_400_not_500(string request)
    {
        var shared = await SharedAsync();
        var bindingId = Ids.New("b");
        foreach (var (what, bytes) in new (string, byte[])[]
        {
            ("lone high surrogate", Encoding.UTF8.GetBytes(Body(request, "\"\\ud800\""))),
            ("lone low surrogate", Encoding.UTF8.GetBytes(Body(request, "\"x\\udc00y\""))),
            ("invalid UTF-8 bytes", InvalidUtf8(Body(request, "\"a@@b\""))),
        })
        {
            var target = request switch
            {
                "provision" => $"/v2/service_instances/{Ids.New("utf")}?accepts_incomplete=true",
                "update" => $"/v2/service_instances/{shared.Id}?accepts_incomplete=true",
                _ => $"/v2/service_instances/{shared.Id}/service_bindings/{bindingId}",
            };
            var reply = await RawHttp.SendAsync(broker.Server, request == "update" ? "PATCH" : "PUT", target, bytes);
            reply.ShouldBeOsbError(HttpStatusCode.BadRequest);
            reply.Str("description")!.ShouldContain("Unicode", Case.Sensitive, $"{what}: {reply}");
        }

        (await Osb.GetBindingAsync(shared.Id, bindingId)).Status.ShouldBe(HttpStatusCode.NotFound);
        await ShouldBeUnchangedAsync(shared);

        // 0xC3 0x28 is a truncated two-byte sequence, 0xFF never occurs in UTF-8.
        static byte[] InvalidUtf8(string json) =>
            [.. Encoding.UTF8.GetBytes(json[..json.IndexOf("@@", StringComparison.Ordinal)]), 0xC3, 0x28, 0xFF, .. Encoding.UTF8.GetBytes(json[(json.IndexOf("@@", StringComparison.Ordinal) + 2)..])];

        // The body with one JSON string value (the app_guid for a bind, the organization_guid for a provision) open at its end.
        static string Body(string request, string value) => request switch
        {
            "provision" => $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","space_guid":"s","organization_guid":{{value}}}""",
            "update" => $$"""{"service_id":"{{Redis}}","parameters":{"maxmemory_policy":""" + value + "}}",
            _ => $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}","app_guid":{{value}}}""",
        };
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_body_that_is_not_declared_as_JSON_is_415(string request)
    {
        var shared = await SharedAsync();
        var bindingId = Ids.New("b");
        var (method, target, json) = request switch
        {
            "provision" => ("PUT", $"/v2/service_instances/{Ids.New("ct")}?accepts_incomplete=true", OsbClientExtensions.ProvisionBody(Redis, RedisPlan)),
            "update" => ("PATCH", $"/v2/service_instances/{shared.Id}?accepts_incomplete=true", $$$"""{"service_id":"{{{Redis}}}","parameters":{"appendonly":true}}"""),
            _ => ("PUT", $"/v2/service_instances/{shared.Id}/service_bindings/{bindingId}", $$"""{"service_id":"{{Redis}}","plan_id":"{{RedisPlan}}"}"""),
        };
        foreach (var contentType in new[] { "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", null })
        {
            var reply = await RawHttp.SendAsync(broker.Server, method, target, json, contentType);
            reply.ShouldBeOsbError(HttpStatusCode.UnsupportedMediaType);
            reply.Str("description")!.ShouldContain("application/json", Case.Sensitive, $"{contentType}: {reply}");
        }

        (await Osb.GetBindingAsync(shared.Id, bindingId)).Status.ShouldBe(HttpStatusCode.NotFound);
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [InlineData("update", "parameters: null", """{"service_id":"#S","parameters":null}""")]
    [InlineData("update", "context: \"x\"", """{"service_id":"#S","context":"x","parameters":{"appendonly":true}}""")]
    [InlineData("update", "plan_id: 5", """{"service_id":"#S","plan_id":5}""")]
    [InlineData("update", "previous_values: []", """{"service_id":"#S","previous_values":[],"parameters":{"appendonly":true}}""")]
    [InlineData("bind", "parameters: null", """{"service_id":"#S","plan_id":"#P","parameters":null}""")]
    [InlineData("bind", "context: \"x\"", """{"service_id":"#S","plan_id":"#P","context":"x"}""")]
    [InlineData("bind", "bind_resource: 5", """{"service_id":"#S","plan_id":"#P","bind_resource":5}""")]
    [InlineData("bind", "app_guid: []", """{"service_id":"#S","plan_id":"#P","app_guid":[]}""")]
    public async Task A_field_of_the_wrong_type_is_refused_precisely(string request, string because, string template)
    {
        var shared = await SharedAsync();
        var bindingId = Ids.New("b");
        var body = template.Replace("#S", Redis, StringComparison.Ordinal).Replace("#P", RedisPlan, StringComparison.Ordinal);
        var reply = request == "update"
            ? await Osb.SendAsync(HttpMethod.Patch, $"/v2/service_instances/{shared.Id}?accepts_incomplete=true", body)
            : await Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{shared.Id}/service_bindings/{bindingId}", body);
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, because.Split(':')[0]);
        (await Osb.GetBindingAsync(shared.Id, bindingId)).Status.ShouldBe(HttpStatusCode.NotFound);
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [InlineData("organization_guid", "org-2")]
    [InlineData("space_guid", "space-2")]
    [InlineData("context", """{"platform":"cloudfoundry","organization_guid":"org-1","space_guid":"space-1"}""")]
    public async Task A_re_PUT_with_another_organization_space_or_context_is_409(string field, string value)
    {
        var shared = await SharedAsync();
        var fields = new Dictionary<string, string>
        {
            ["service_id"] = $"\"{Redis}\"",
            ["plan_id"] = $"\"{RedisPlan}\"",
            ["organization_guid"] = "\"org-1\"",
            ["space_guid"] = "\"space-1\"",
        };
        fields[field] = value.StartsWith('{') ? value : $"\"{value}\"";
        var body = "{" + string.Join(',', fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";

        // The very request the instance was provisioned with is still answered 200 (with only its dashboard): only the difference conflicts.
        var same = await Osb.PutInstanceRawAsync(shared.Id, OsbClientExtensions.ProvisionBody(Redis, RedisPlan));
        same.Status.ShouldBe(HttpStatusCode.OK, same.ToString());
        same.Body.EnumerateObject().Select(p => p.Name).ShouldBe(["dashboard_url"]);
        (await Osb.PutInstanceRawAsync(shared.Id, body)).ShouldBeOsbError(HttpStatusCode.Conflict);
        await ShouldBeUnchangedAsync(shared);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'r', 0xE9, (byte)'q' })]
    [InlineData(new byte[] { (byte)'r', 0xC3, 0xA9, (byte)'q' })]
    public async Task A_request_identity_with_a_non_ASCII_byte_is_400_with_an_error_body(byte[] value)
    {
        var shared = await SharedAsync();
        var identity = (Name: "X-Broker-API-Request-Identity", Value: value);
        var get = await RawHttp.SendAsync(broker.Server, "GET", $"/v2/service_instances/{shared.Id}", headers: [identity]);
        get.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "X-Broker-API-Request-Identity");
        get.Headers.Contains("X-Broker-API-Request-Identity").ShouldBeFalse("a value that is not ASCII is not echoed");

        var delete = await RawHttp.SendAsync(broker.Server, "DELETE", $"/v2/service_instances/{shared.Id}?service_id={Redis}&plan_id={RedisPlan}&accepts_incomplete=true", headers: [identity]);
        delete.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, "X-Broker-API-Request-Identity");
        await ShouldBeUnchangedAsync(shared);
    }

    private static void ShouldAllBeBadRequests(Dictionary<string, Reply> replies) =>
        replies.ShouldSatisfyAllConditions(replies.Select(r => (Action)(() => r.Value.ShouldBeOsbError(HttpStatusCode.BadRequest))).ToArray());

    /// <summary>
    /// The shared instance is still provisioned and ready, on its plan, without parameters, with the same bindings,
    /// and no operation was started since <paramref name="before"/> was taken.
    /// </summary>
    private async Task ShouldBeUnchangedAsync(SharedInstance shared, string? before = null)
    {
        var fetched = await Osb.GetInstanceAsync(shared.Id);
        fetched.Status.ShouldBe(HttpStatusCode.OK, fetched.ToString());
        fetched.Str("plan_id").ShouldBe(shared.PlanId);
        fetched.Body.GetProperty("parameters").EnumerateObject().ShouldBeEmpty("a refused request must not change the instance");
        (await StateAsync(shared)).ShouldBe(before ?? _before ?? throw new InvalidOperationException("no state taken"), "a refused request must not start an operation");
    }

    private string? _before;

    /// <summary>What a refused request must not change: state, last operation, bindings.</summary>
    private async Task<string> StateAsync(SharedInstance shared)
    {
        var shown = await Osb.ApiAsync($"/instances/{shared.Id}");
        shown.Status.ShouldBe(HttpStatusCode.OK, shown.ToString());
        var last = shown.Body.GetProperty("last_operation");
        return $"{shown.Body.GetProperty("state")} {last.GetProperty("id")} {last.GetProperty("state")} {shown.Body.GetProperty("bindings")}";
    }

    private async Task<SharedInstance> SharedAsync()
    {
        var shared = await broker.RedisAsync();
        _before = await StateAsync(shared);
        return shared;
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using System.Runtime.CompilerServices;
using Steward.Server.Http;
using Steward.Server.Metrics;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Supervision;

namespace Steward.Server.Tests.Http;

/// <summary>
/// Scoping cannot be forgotten: every endpoint the broker maps (enumerated in process from the same mapping
/// code the broker runs) is called on the real broker with another instance's real ids, anonymously and
/// with an instance token, and must refuse both.
/// </summary>
[Collection("supervised")]
public sealed class EndpointScopeTests(SupervisedBrokerFixture broker)
{
    [Fact]
    public async Task Every_endpoint_refuses_an_anonymous_caller_and_the_token_of_another_instance()
    {
        var endpoints = MappedEndpoints();
        endpoints.ShouldContain(e => e.Pattern == "/api/v1/backups/{backupId}" && e.Method == "DELETE", "the enumeration sees the API");
        endpoints.Where(e => !e.Pattern.StartsWith("/v2/", StringComparison.Ordinal) && !e.Pattern.StartsWith("/api/v1/", StringComparison.Ordinal))
            .Select(e => e.Pattern).Order(StringComparer.Ordinal).ToArray().ShouldBe(["/", "/metrics", "/wal/{instanceId}/{name}", "/wal/{instanceId}/{name}"], customMessage: "outside OSB and the API the broker serves only its anonymous index and its metrics");

        var osb = broker.Client;
        var mine = "scope-mine-" + Guid.NewGuid().ToString("N")[..6];
        var theirs = "scope-theirs-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.ProvisionReadyAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        var token = (await osb.BindReadyAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        await osb.BindReadyAsync(theirs, "b-" + theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        var backup = (await osb.BackupAsync(theirs)).GetProperty("id").GetString()!;
        var operation = (await osb.ApiAsync($"/instances/{theirs}")).Body.GetProperty("last_operation").GetProperty("id").GetString()!;
        var incident = await IncidentOfAsync(theirs);
        var ids = new Dictionary<string, string>
        {
            ["instanceId"] = theirs,
            ["bindingId"] = "b-" + theirs,
            ["backupId"] = backup,
            ["operationId"] = operation,
            ["incidentId"] = incident,
        };

        // A body that would act on their instance if a refusal failed: a restore from their backup, a plan change.
        var body = new { service_id = Catalogs.Redis, plan_id = Catalogs.RedisStandalone, organization_guid = "org", space_guid = "space", backup_id = backup };
        (await SendAsync("GET", $"/api/v1/instances/{mine}", Bearer(token))).Status.ShouldBe(HttpStatusCode.OK, "the token works for its own instance");
        // /wal/* is called by an instance's archive_command with that instance's archive secret, not broker credentials or tokens (WalArchivingTests).
        foreach (var endpoint in endpoints.Where(e => e.Pattern != "/" && !e.Pattern.StartsWith("/wal/", StringComparison.Ordinal)))
        {
            var path = Fill(endpoint.Pattern, ids);
            var what = $"{endpoint.Method} {path}";

            var anonymous = await SendAsync(endpoint.Method, path, authorization: null, body);
            anonymous.Status.ShouldBe(HttpStatusCode.Unauthorized, $"{what} anonymously: {anonymous}");
            anonymous.Headers.WwwAuthenticate.ToString().ShouldStartWith("Basic");

            var foreign = await SendAsync(endpoint.Method, path, Bearer(token), body);
            if (!endpoint.Pattern.StartsWith("/api/v1/", StringComparison.Ordinal))
            {
                foreign.Status.ShouldBe(HttpStatusCode.Forbidden, $"{what} with an instance token: {foreign}");
            }
            else if (foreign.Status == HttpStatusCode.OK)
            {
                endpoint.FiltersByCaller.ShouldBeTrue($"{what} answered an instance token without declaring that it filters by caller: {foreign}");
                foreign.Text.ShouldNotContain(theirs, Case.Sensitive, $"{what} showed another instance to a token");
            }
            else
            {
                foreign.Status.ShouldBeOneOf([HttpStatusCode.NotFound, HttpStatusCode.Forbidden], $"{what} with another instance's token: {foreign}");
            }

            foreign.Status.ShouldNotBe(HttpStatusCode.InternalServerError, what);
        }

        (await osb.ApiAsync($"/instances/{theirs}")).Status.ShouldBe(HttpStatusCode.OK, "their instance was not touched");
        (await osb.ApiAsync($"/backups/{backup}")).Body.GetProperty("state").GetString().ShouldBe("succeeded", "their backup was not touched");
        (await osb.GetBindingAsync(theirs, "b-" + theirs)).Status.ShouldBe(HttpStatusCode.OK, "their binding was not touched");
    }

    private static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    /// <summary>The endpoints exactly as the broker maps them, from its own mapping code, without starting it.</summary>
    private static List<(string Method, string Pattern, bool FiltersByCaller)> MappedEndpoints()
    {
        var builder = WebApplication.CreateSlimBuilder();

        // Mapping /metrics reads the metrics' registry; nothing is served in process, so an empty object will do.
        builder.Services.AddSingleton((StewardMetrics)RuntimeHelpers.GetUninitializedObject(typeof(StewardMetrics)));
        var app = builder.Build();
        app.MapStewardEndpoints();
        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(s => s.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/'), e.Metadata.GetMetadata<FiltersByCallerMetadata>() is not null)))
            .ToList();
    }

    private static string Fill(string pattern, Dictionary<string, string> ids)
    {
        var path = pattern;
        foreach (var parameter in System.Text.RegularExpressions.Regex.Matches(pattern, @"\{(\w+)\}").Select(m => m.Groups[1].Value))
        {
            ids.TryGetValue(parameter, out var value).ShouldBeTrue($"{pattern}: this test has no id of another instance for {{{parameter}}}; add one");
            path = path.Replace("{" + parameter + "}", Uri.EscapeDataString(value!), StringComparison.Ordinal);
        }

        var query = pattern.StartsWith("/v2/", StringComparison.Ordinal) ? $"?service_id={Catalogs.Redis}&plan_id={Catalogs.RedisStandalone}&accepts_incomplete=true" : string.Empty;
        return path + query;
    }

    private async Task<Reply> SendAsync(string method, string path, AuthenticationHeaderValue? authorization, object? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = authorization;
        request.Headers.Add("X-Broker-API-Version", "2.17");
        if (body is not null && method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        using var response = await broker.Server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return new Reply(response.StatusCode, json, response.Headers, text);
    }

    private async Task<string> IncidentOfAsync(string instance)
    {
        var pid = (await broker.Client.ApiAsync($"/instances/{instance}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        Processes.Kill(pid, 9);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var incidents = (await broker.Client.ApiAsync($"/incidents?instance={instance}")).Body.GetProperty("incidents");
            if (incidents.GetArrayLength() > 0)
            {
                return incidents[0].GetProperty("id").GetString()!;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no incident opened for {instance} after its server was killed:\n{broker.Server.Log}");
    }
}

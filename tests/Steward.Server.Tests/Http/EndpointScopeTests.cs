using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
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
/// with an instance token, and must refuse both. The dashboard's session cookie is a third kind of caller: it
/// opens nothing outside /dashboard, and inside it nothing of another instance; the broker's credentials and
/// instance tokens open nothing inside /dashboard.
/// </summary>
[Collection("supervised")]
public sealed class EndpointScopeTests(SupervisedBrokerFixture broker) : IDisposable
{
    /// <summary>A client that follows no redirect and keeps no cookie: each request carries exactly what the test gives it.</summary>
    private readonly HttpClient _browserless = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = broker.Server.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };

    public void Dispose() => _browserless.Dispose();

    [Fact]
    public async Task Every_endpoint_refuses_an_anonymous_caller_and_the_token_of_another_instance()
    {
        var endpoints = MappedEndpoints();
        endpoints.ShouldContain(e => e.Pattern == "/api/v1/backups/{backupId}" && e.Method == "DELETE", "the enumeration sees the API");
        endpoints.Where(e => !e.Pattern.StartsWith("/v2/", StringComparison.Ordinal) && !e.Pattern.StartsWith("/api/v1/", StringComparison.Ordinal) && !IsDashboard(e.Pattern))
            .Select(e => e.Pattern).Order(StringComparer.Ordinal).ToArray().ShouldBe(["/", "/metrics", "/readyz", "/wal/{instanceId}/{name}", "/wal/{instanceId}/{name}"], customMessage: "outside OSB, the API and the dashboard the broker serves only its anonymous index and readiness, its metrics and the WAL archive");
        endpoints.Where(e => e.Anonymous).Select(e => $"{e.Method} {e.Pattern}").Order(StringComparer.Ordinal).ToArray().ShouldBe(
            ["GET /", "GET /dashboard/assets/{name}", "GET /dashboard/login", "GET /dashboard/login/{ticket}", "GET /readyz", "GET /wal/{instanceId}/{name}", "POST /dashboard/login", "PUT /wal/{instanceId}/{name}"],
            customMessage: "anonymous to the broker's and the dashboard's schemes: the index and readiness, the dashboard's login page and its assets, and the WAL archive (its own per-instance secret), nothing else");

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
        var rehearsal = (await Rehearsals.Rehearse.WaitAsync(osb, (await Rehearsals.Rehearse.StartAsync(broker.Server, theirs)).Str("id")!)).GetProperty("id").GetString()!;
        var ids = new Dictionary<string, string>
        {
            ["rehearsalId"] = rehearsal,
            ["instanceId"] = theirs,
            ["bindingId"] = "b-" + theirs,
            ["backupId"] = backup,
            ["operationId"] = operation,
            ["incidentId"] = incident,
            ["action"] = "restore",
            ["ticket"] = "not-a-ticket",
            ["name"] = "dashboard.css",
        };
        var session = await DashboardSessionAsync(token, mine);
        var csrf = await CsrfOfAsync(session, mine);

        // A body that would act on their instance if a refusal failed: a restore from their backup, a plan change.
        var body = new { service_id = Catalogs.Redis, plan_id = Catalogs.RedisStandalone, organization_guid = "org", space_guid = "space", backup_id = backup };
        (await SendAsync("GET", $"/api/v1/instances/{mine}", Bearer(token))).Status.ShouldBe(HttpStatusCode.OK, "the token works for its own instance");
        foreach (var endpoint in endpoints.Where(e => !e.Anonymous && IsDashboard(e.Pattern)))
        {
            var path = Fill(endpoint.Pattern, ids) + $"?backup={backup}";
            var what = $"{endpoint.Method} {path}";
            foreach (var (who, authorization) in new[] { ("anonymously", (AuthenticationHeaderValue?)null), ("with the broker's credentials", new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{broker.Server.Username}:{broker.Server.Password}")))), ("with an instance token", Bearer(token)) })
            {
                var refused = await SendAsync(endpoint.Method, path, authorization, dashboardForm: new() { ["csrf"] = csrf, ["backup_id"] = backup });
                refused.Status.ShouldBe(HttpStatusCode.Redirect, $"{what} {who} must lead to the login page: {refused}");
                refused.Headers.Location!.OriginalString.ShouldStartWith($"{broker.Server.Url}/dashboard/login?", Case.Sensitive, what);
            }

            // Their ids with my session (and my session's valid CSRF token): nothing of theirs exists.
            var crossed = await SendAsync(endpoint.Method, path, authorization: null, cookie: session, dashboardForm: new() { ["csrf"] = csrf, ["backup_id"] = backup });
            crossed.Text.ShouldNotContain(theirs, Case.Sensitive, $"{what} showed another instance to a dashboard session");
            if (endpoint.Pattern.Contains("{instanceId}", StringComparison.Ordinal))
            {
                crossed.Status.ShouldBe(HttpStatusCode.NotFound, $"{what} with another instance's dashboard session: {crossed}");
            }
            else
            {
                crossed.Status.ShouldBe(HttpStatusCode.Redirect, $"{what} with a dashboard session: {crossed}");
                crossed.Headers.Location!.OriginalString.ShouldBeOneOf([$"/dashboard/instances/{mine}", "/dashboard/login"], what);
            }
        }

        endpoints.ShouldContain(e => e.Pattern == "/api/v1/instances/{instanceId}/members" && e.Method == "GET", "the enumeration sees the HA endpoints");
        (await SendAsync("GET", $"/api/v1/instances/{mine}/members", Bearer(token))).Status.ShouldBe(HttpStatusCode.OK, "a token reads its own instance's members");
        var switchover = await SendAsync("POST", $"/api/v1/instances/{mine}/switchover", Bearer(token), new { });
        switchover.Status.ShouldBe(HttpStatusCode.Forbidden, $"a switchover is the operator's, not a binding holder's, even on its own instance: {switchover}");
        // /wal/* is called by an instance's archive_command with that instance's archive secret, not broker credentials or tokens (WalArchivingTests).
        foreach (var endpoint in endpoints.Where(e => !e.Anonymous && !IsDashboard(e.Pattern)))
        {
            var path = Fill(endpoint.Pattern, ids);
            var what = $"{endpoint.Method} {path}";

            // A dashboard session is no credential outside the dashboard, even when a client sends its cookie there.
            var withCookie = await SendAsync(endpoint.Method, path, authorization: null, body, cookie: session);
            withCookie.Status.ShouldBe(HttpStatusCode.Unauthorized, $"{what} with a dashboard session cookie: {withCookie}");

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
        (await osb.ApiAsync($"/instances/{theirs}/backups")).Body.GetProperty("backups").GetArrayLength().ShouldBe(1, "no backup of theirs was started");
        (await osb.ApiAsync($"/instances/{theirs}")).Body.GetProperty("last_operation").GetProperty("id").GetString().ShouldBe(operation, "no restore of theirs was started");
        var own = await SendAsync("GET", $"/dashboard/instances/{mine}", authorization: null, cookie: session);
        own.Status.ShouldBe(HttpStatusCode.OK, "the session still opens its own instance's page");
        own.Text.ShouldContain(mine);
    }

    private static bool IsDashboard(string pattern) => pattern == "/dashboard" || pattern.StartsWith("/dashboard/", StringComparison.Ordinal);

    /// <summary>Logs in to the dashboard with an instance token as a browser does; the session's cookies, as a Cookie header.</summary>
    private async Task<string> DashboardSessionAsync(string token, string instance)
    {
        var page = await SendAsync("GET", "/dashboard/login", authorization: null);
        page.Status.ShouldBe(HttpStatusCode.OK, page.ToString());
        var cookies = Cookies(page.Headers);
        var login = await SendAsync("POST", "/dashboard/login", authorization: null, cookie: cookies, dashboardForm: new() { ["csrf"] = CsrfField(page.Text), ["token"] = token });
        login.Status.ShouldBe(HttpStatusCode.Redirect, login.ToString());
        login.Headers.Location!.OriginalString.ShouldBe($"/dashboard/instances/{instance}");
        return cookies + "; " + Cookies(login.Headers);
    }

    /// <summary>A CSRF token valid for this session, from its own confirmation page.</summary>
    private async Task<string> CsrfOfAsync(string session, string instance)
    {
        var page = await SendAsync("GET", $"/dashboard/instances/{instance}/confirm/backup", authorization: null, cookie: session);
        page.Status.ShouldBe(HttpStatusCode.OK, page.ToString());
        return CsrfField(page.Text);
    }

    private static string CsrfField(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "name=\"csrf\" value=\"([^\"]+)\"") is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no CSRF field in:\n" + html);

    private static string Cookies(HttpResponseHeaders headers) =>
        string.Join("; ", headers.TryGetValues("Set-Cookie", out var values) ? values.Select(v => v.Split(';')[0]) : []);

    private static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    /// <summary>The endpoints exactly as the broker maps them, from its own mapping code, without starting it.</summary>
    private static List<(string Method, string Pattern, bool FiltersByCaller, bool Anonymous)> MappedEndpoints()
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
                .Select(m => (m, "/" + e.RoutePattern.RawText!.Trim('/'), e.Metadata.GetMetadata<FiltersByCallerMetadata>() is not null, e.Metadata.GetMetadata<IAllowAnonymous>() is not null)))
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

    private async Task<Reply> SendAsync(string method, string path, AuthenticationHeaderValue? authorization, object? body = null, string? cookie = null, Dictionary<string, string>? dashboardForm = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = authorization;
        request.Headers.Add("X-Broker-API-Version", "2.17");
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        if (dashboardForm is not null && method == "POST")
        {
            request.Content = new FormUrlEncodedContent(dashboardForm);
        }
        else if (body is not null && method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        using var response = await _browserless.SendAsync(request);
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

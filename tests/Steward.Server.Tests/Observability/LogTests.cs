using System.Text.Json;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.State.Sqlite;

namespace Steward.Server.Tests.Observability;

/// <summary>STEWARD_LOG_FORMAT=json: one JSON object per line with event ids, and no secret in any line (dashboard logins included).</summary>
public sealed class LogTests
{
    [Fact]
    public async Task Json_logs_keep_event_ids_and_no_secret_appears_in_any_line_during_provision_bind_backup_and_dashboard_logins()
    {
        await using var server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_LOG_FORMAT"] = "json" });
        var osb = server.Client;
        var id = "log-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var credentials = await osb.BindReadyAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        await osb.BackupAsync(id);
        var token = credentials.GetProperty("steward_api").GetProperty("token").GetString()!;
        var (ticket, session) = await DashboardLoginsAsync(server, id, token);
        (await osb.UnbindAsync(id, "b-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)).Status.ShouldBe(System.Net.HttpStatusCode.OK);

        var secrets = new List<string>
        {
            server.Password,
            credentials.GetProperty("password").GetString()!,
            credentials.GetProperty("uri").GetString()!,
            token,
            ticket,
            session,
        };
        var store = new SqliteStateStore(Path.Combine(server.DataDir, "steward.db"), Steward.Security.CredentialKey.LoadOrCreate(Path.Combine(server.DataDir, Steward.Security.CredentialKey.FileName)));
        secrets.Add((await store.GetInstanceAsync(id, default))!.AdminPassword);
        secrets.Add(File.ReadAllLines(BackupApi.IdentityFile(server)).Single(l => l.StartsWith("AGE-SECRET-KEY-", StringComparison.Ordinal)));

        await osb.DeprovisionAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        var lines = server.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBeGreaterThan(5);
        foreach (var secret in secrets)
        {
            secret.Length.ShouldBeGreaterThan(8);
            lines.ShouldAllBe(l => !l.Contains(secret, StringComparison.Ordinal), $"a secret of length {secret.Length} appears in the log");
        }

        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var e in entries)
        {
            string[] fields = ["EventId", "LogLevel", "Category", "Message", "Timestamp"];
            fields.Where(f => !e.TryGetProperty(f, out var _)).ShouldBeEmpty(e.GetRawText());
        }
        var provisioned = entries.Where(e => e.GetProperty("EventId").GetInt32() == 3002 && e.GetProperty("State").GetProperty("InstanceId").GetString() == id).ToList();
        provisioned.Select(e => e.GetProperty("State").GetProperty("Kind").GetString()).ShouldContain("Provision");
        provisioned.ShouldAllBe(e => e.GetProperty("Message").GetString()!.Contains(id, StringComparison.Ordinal));
        entries.ShouldContain(e => e.GetProperty("EventId").GetInt32() == 6001 && e.GetProperty("State").GetProperty("InstanceId").GetString() == id && e.GetProperty("State").GetProperty("State").GetString() == "Succeeded");
        entries.ShouldContain(e => e.GetProperty("EventId").GetInt32() == 1002);
    }

    /// <summary>Opens the dashboard with a login link and with the token typed into the login form; the link's ticket and a session cookie.</summary>
    private static async Task<(string Ticket, string Session)> DashboardLoginsAsync(StewardServer server, string id, string token)
    {
        var link = await server.Client.PostAsync($"/instances/{id}/dashboard-links");
        link.Status.ShouldBe(System.Net.HttpStatusCode.Created, link.ToString());
        var url = link.Body.GetProperty("url").GetString()!;
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(server.Url) };
        using var redeemed = await browser.GetAsync(url);
        redeemed.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        var session = redeemed.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("steward_session=", StringComparison.Ordinal)).Split(';')[0]["steward_session=".Length..];

        using var page = await browser.GetAsync("/dashboard/login");
        var csrf = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"csrf\" value=\"([^\"]+)\"").Groups[1].Value;
        using var login = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login") { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = csrf, ["token"] = token }) };
        login.Headers.Add("Cookie", string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
        using var loggedIn = await browser.SendAsync(login);
        loggedIn.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect, "the token logs in to the dashboard");
        return (url[(url.LastIndexOf('/') + 1)..], session);
    }

    [Fact]
    public async Task An_unknown_log_format_stops_the_broker_with_a_precise_error()
    {
        var ex = await Should.ThrowAsync<InvalidOperationException>(async () => await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_LOG_FORMAT"] = "xml" }));
        ex.Message.ShouldContain("STEWARD_LOG_FORMAT (--log-format, or Logging:Format in the --config file) = 'xml': not allowed; allowed: text, json");
    }
}

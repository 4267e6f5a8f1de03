using System.Diagnostics;
using System.Net;
using Microsoft.Playwright;
using Steward.Server.Tests.Backups;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Observability;
using static Microsoft.Playwright.Assertions;

namespace Steward.Server.Tests.Dashboard;

/// <summary>The per-instance dashboard in a real browser against a real broker, Redis and supervisor.</summary>
[Collection("observed")]
public sealed class DashboardTests(ObservedBroker broker) : IAsyncLifetime
{
    private readonly Browser _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    [Fact]
    public async Task Log_in_with_a_token_see_health_backups_and_an_incident_then_back_up_and_watch_it_complete()
    {
        var osb = broker.Osb;
        var id = "dash-" + Guid.NewGuid().ToString("N")[..8];
        var provision = await osb.ProvisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var dashboardUrl = provision.Str("dashboard_url")!;
        dashboardUrl.ShouldBe($"{broker.Server.Url}/dashboard/instances/{id}");
        (await osb.WaitAsync(id, provision.Str("operation"))).Str("state").ShouldBe("succeeded");
        var token = (await osb.BindReadyAsync(id, "b-" + id, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        var first = (await osb.BackupAsync(id)).Text("id");
        var schedule = await osb.SendAsync(HttpMethod.Put, $"/api/v1/instances/{id}/backup-schedule", new { every = "6h", keep_last = 8 }, version: null);
        schedule.Status.ShouldBe(HttpStatusCode.OK, schedule.ToString());
        var pid = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        Processes.Kill(pid, 9);
        await WaitAsync(async () => (await osb.ApiAsync($"/incidents?instance={id}")).Body.GetProperty("incidents").EnumerateArray().Any(i => i.GetProperty("state").GetString() == "resolved"));

        await using var context = await _browser.Instance.NewContextAsync(new BrowserNewContextOptions { BaseURL = broker.Server.Url });
        var page = await context.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, m) => { if (m.Text.Contains("Content Security Policy", StringComparison.Ordinal)) violations.Add(m.Text); };
        await page.GotoAsync(dashboardUrl);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dashboard/login"));
        await page.GetByLabel("Instance token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(dashboardUrl);

        await Expect(page.Locator("h1")).ToHaveTextAsync(id);
        await Expect(page.GetByTestId("health-status")).ToHaveTextAsync("healthy");
        await Expect(page.Locator($"tr[data-backup='{first}']")).ToContainTextAsync("succeeded");
        await Expect(page.GetByTestId("schedule")).ToContainTextAsync("every 6h, keeps last 8 · set for this instance");
        await Expect(page.GetByTestId("recoverable")).ToContainTextAsync("1 backup to restore from");
        var incident = page.Locator("details.incident").First;
        await Expect(incident).ToContainTextAsync("killed-by-signal");
        await Expect(incident).ToContainTextAsync("resolved");
        await incident.Locator("summary").ClickAsync();
        await incident.Locator("summary").ClickAsync();
        await Expect(incident.Locator("ol.timeline")).ToContainTextAsync("restarted");
        await Expect(incident.Locator("table.evidence")).ToContainTextAsync("signal");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-live", "connected");
        await Browser.ShotAsync(page, "dashboard-instance");

        var cookies = await context.CookiesAsync();
        var session = cookies.Single(c => c.Name == "steward_session");
        session.HttpOnly.ShouldBeTrue();
        session.SameSite.ShouldBe(SameSiteAttribute.Strict);
        session.Value.ShouldNotContain(token);

        await page.GetByRole(AriaRole.Link, new() { Name = "Back up now" }).ClickAsync();
        await Expect(page.Locator("main")).ToContainTextAsync($"A rdb backup");
        await Expect(page.Locator("main")).ToContainTextAsync("stays online");
        await Browser.ShotAsync(page, "dashboard-confirm-backup");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Back up {id}" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(dashboardUrl);
        await page.EvaluateAsync("() => { window.stewardMarker = 42; }");
        var rows = page.Locator("table[data-testid='backups'] tbody tr");
        await Expect(rows).ToHaveCountAsync(2, new() { Timeout = 60_000 });
        await Expect(rows.Filter(new() { HasText = "succeeded" })).ToHaveCountAsync(2, new() { Timeout = 60_000 });
        (await page.EvaluateAsync<int>("() => window.stewardMarker")).ShouldBe(42, "the backup's end arrived through the event stream, without a reload");
        await Expect(page.GetByTestId("recoverable")).ToContainTextAsync("2 backups to restore from");
        await Browser.ShotAsync(page, "dashboard-after-backup");

        // Rehearse: the confirmation names the newest backup and leaves the live instance alone; the page follows
        // the rehearsal through the event stream and shows its report and the new "last proven restorable".
        var newest = (await osb.ApiAsync($"/instances/{id}/backups")).Body.GetProperty("backups").EnumerateArray().Select(b => b.GetProperty("id").GetString()!).Where(b => b != first).Single();
        await Expect(page.GetByTestId("last-proven")).ToContainTextAsync("Never proven restorable");
        await page.Locator("#rehearsals").GetByRole(AriaRole.Link, new() { Name = "Rehearse…" }).ClickAsync();
        await Expect(page.Locator("main")).ToContainTextAsync($"its newest succeeded backup {newest}");
        await Expect(page.Locator("main")).ToContainTextAsync($"The live instance {id} is not touched");
        await Browser.ShotAsync(page, "dashboard-confirm-rehearse");
        var livePid = (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32();
        await page.GetByRole(AriaRole.Button, new() { Name = $"Rehearse {newest}" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(dashboardUrl);
        await page.EvaluateAsync("() => { window.stewardMarker = 43; }");
        await Expect(page.GetByTestId("last-proven")).ToContainTextAsync($"Last proven restorable", new() { Timeout = 120_000 });
        await Expect(page.GetByTestId("last-proven")).ToContainTextAsync($"backup {newest}");
        var report = page.GetByTestId("rehearsal-report");
        await Expect(report).ToContainTextAsync("passed");
        await Expect(report).ToContainTextAsync("restore time");
        await Expect(report.Locator("tr", new() { HasText = "redis-check-rdb" })).ToContainTextAsync("passed");
        await Expect(report.Locator("tr", new() { HasText = "key counts" })).ToContainTextAsync("passed");
        (await page.EvaluateAsync<int>("() => window.stewardMarker")).ShouldBe(43, "the rehearsal's end arrived through the event stream, without a reload");
        await Browser.ShotAsync(page, "dashboard-after-rehearsal");
        var rehearsal = (await osb.ApiAsync($"/instances/{id}/rehearsals")).Body.GetProperty("rehearsals").EnumerateArray().Single();
        rehearsal.GetProperty("state").GetString().ShouldBe("passed");
        rehearsal.GetProperty("backup_id").GetString().ShouldBe(newest);
        rehearsal.GetProperty("requested_by").GetString().ShouldBe("dashboard");
        (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("process").GetProperty("pid").GetInt32().ShouldBe(livePid, "the live server was not touched");

        // Rebuild: the confirmation names the backup and the loss, the instance comes back healthy from it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Rebuild…" }).ClickAsync();
        await Expect(page.Locator("main")).ToContainTextAsync($"recreated from its newest backup {newest}");
        await Expect(page.Locator("main")).ToContainTextAsync("Writes made since that backup are lost");
        await Browser.ShotAsync(page, "dashboard-confirm-rebuild");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Rebuild {id} from {newest}" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(dashboardUrl);
        await WaitAsync(async () => (await osb.ApiAsync($"/instances/{id}")).Body.GetProperty("last_operation") is var op
            && op.GetProperty("kind").GetString() == "rebuild" && op.GetProperty("state").GetString() == "succeeded");
        await Expect(page.GetByTestId("health-status")).ToHaveTextAsync("healthy", new() { Timeout = 60_000 });

        // The strict Content-Security-Policy held: nothing was refused, and it is on the page's response.
        violations.ShouldBeEmpty();
        var response = await context.APIRequest.GetAsync(dashboardUrl);
        response.Headers["content-security-policy"].ShouldContain("script-src 'self'");
        response.Headers["content-security-policy"].ShouldContain("frame-ancestors 'none'");
        (await osb.ApiAsync($"/instances/{id}/backups")).Body.GetProperty("backups").GetArrayLength().ShouldBe(2);
        await osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task Another_instances_token_sees_nothing_of_it_and_an_action_without_the_csrf_token_is_refused()
    {
        var osb = broker.Osb;
        var mine = "dasha-" + Guid.NewGuid().ToString("N")[..8];
        var theirs = "dashb-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.ProvisionReadyAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        var myToken = (await osb.BindReadyAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
        var theirBackup = (await osb.BackupAsync(theirs)).Text("id");

        await using var context = await _browser.Instance.NewContextAsync(new BrowserNewContextOptions { BaseURL = broker.Server.Url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/dashboard/login");
        await page.GetByLabel("Instance token").FillAsync(myToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync(mine);

        var other = await page.GotoAsync($"/dashboard/instances/{theirs}");
        other!.Status.ShouldBe(404);
        var text = await page.Locator("body").InnerTextAsync();
        text.ShouldNotContain(theirBackup);
        text.ShouldNotContain("healthy");
        await Browser.ShotAsync(page, "dashboard-other-instance");
        (await context.APIRequest.GetAsync($"/dashboard/instances/{theirs}/events")).Status.ShouldBe(404);
        (await context.APIRequest.GetAsync($"/dashboard/instances/{theirs}/confirm/restore?backup={theirBackup}")).Status.ShouldBe(404);

        // The session cookie rides along, the CSRF token does not: refused, nothing started.
        var forged = await context.APIRequest.PostAsync($"/dashboard/instances/{mine}/backups", new() { Form = context.APIRequest.CreateFormData() });
        forged.Status.ShouldBe(400);
        (await forged.TextAsync()).ShouldContain("CSRF");
        var wrong = context.APIRequest.CreateFormData();
        wrong.Set("csrf", "not-the-token");
        (await context.APIRequest.PostAsync($"/dashboard/instances/{mine}/backups", new() { Form = wrong })).Status.ShouldBe(400);
        (await context.APIRequest.PostAsync($"/dashboard/instances/{mine}/rebuild", new() { Form = context.APIRequest.CreateFormData() })).Status.ShouldBe(400);
        (await context.APIRequest.PostAsync($"/dashboard/instances/{mine}/rehearsals", new() { Form = context.APIRequest.CreateFormData() })).Status.ShouldBe(400);
        (await osb.ApiAsync($"/instances/{mine}/rehearsals")).Body.GetProperty("rehearsals").GetArrayLength().ShouldBe(0, "no rehearsal was started");
        (await osb.ApiAsync($"/instances/{mine}/backups")).Body.GetProperty("backups").GetArrayLength().ShouldBe(0);
        (await osb.ApiAsync($"/instances/{mine}")).Body.GetProperty("last_operation").GetProperty("kind").GetString().ShouldBe("provision", "no rebuild was started");

        // A forged request for the other instance, with this session's valid token, is not found either.
        await page.GotoAsync($"/dashboard/instances/{mine}/confirm/backup");
        var csrf = await page.Locator("input[name=csrf]").First.GetAttributeAsync("value");
        var cross = context.APIRequest.CreateFormData();
        cross.Set("csrf", csrf!);
        (await context.APIRequest.PostAsync($"/dashboard/instances/{theirs}/backups", new() { Form = cross })).Status.ShouldBe(404);
        (await osb.ApiAsync($"/instances/{theirs}/backups")).Body.GetProperty("backups").GetArrayLength().ShouldBe(1);

        await osb.DeprovisionAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await osb.DeprovisionAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    [Fact]
    public async Task A_login_link_from_the_cli_opens_the_dashboard_once()
    {
        var osb = broker.Osb;
        var id = "dashl-" + Guid.NewGuid().ToString("N")[..8];
        await osb.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        var created = await osb.PostAsync($"/instances/{id}/dashboard-links");
        created.Status.ShouldBe(HttpStatusCode.Created, created.ToString());
        var link = created.Str("url")!;
        link.ShouldStartWith($"{broker.Server.Url}/dashboard/login/");

        await using var context = await _browser.Instance.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(link);
        await Expect(page.Locator("h1")).ToHaveTextAsync(id);
        await using var stranger = await _browser.Instance.NewContextAsync();
        var reused = await (await stranger.NewPageAsync()).GotoAsync(link);
        reused!.Status.ShouldBe(401, "a login link works once");
        await osb.DeprovisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "condition not met in time");
            await Task.Delay(100);
        }
    }
}

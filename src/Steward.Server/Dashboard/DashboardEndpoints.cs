using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Security;
using Steward.Server.Backups;
using Steward.Server.Backups.Wal;
using Steward.Server.Broker;
using Steward.Server.Events;
using Steward.Server.Http;
using Steward.Server.Operations;
using Steward.State;
using static Steward.Server.Dashboard.Html;

namespace Steward.Server.Dashboard;

/// <summary>
/// /dashboard: log in with an instance token or a login link, see that one instance, act on it after a
/// confirmation page that says what will happen. Every form carries an antiforgery token; a session sees
/// only the instance it was opened for (anything else is "not found").
/// </summary>
internal static partial class DashboardEndpoints
{
    public static IEndpointRouteBuilder MapStewardDashboard(this IEndpointRouteBuilder app)
    {
        var root = app.MapGroup("/dashboard").AddEndpointFilter(async (ctx, next) =>
        {
            SecurityHeaders(ctx.HttpContext.Response);
            return await next(ctx);
        });

        // Anonymous: the login page and what it is made of, nothing else.
        root.MapGet("/assets/{name}", (string name) => Asset(name)).AllowAnonymous();
        root.MapGet("/login", (HttpContext http, [FromServices] IAntiforgery csrf) => LoginPage(http, csrf, null, StatusCodes.Status200OK)).AllowAnonymous();
        root.MapPost("/login", LoginAsync).AllowAnonymous();
        root.MapGet("/login/{ticket}", LinkLoginAsync).AllowAnonymous();

        // Everything else needs a dashboard session, and only the session's own instance exists for it.
        var session = root.MapGroup(string.Empty).RequireAuthorization(DashboardServiceCollectionExtensions.Policy);
        session.MapGet("/", (HttpContext http) => Results.Redirect("/dashboard/instances/" + Uri.EscapeDataString(http.User.FindFirstValue(DashboardServiceCollectionExtensions.InstanceClaim)!)));
        session.MapPost("/logout", async (HttpContext http, [FromServices] IAntiforgery csrf) =>
        {
            if (!await csrf.IsRequestValidAsync(http))
            {
                return CsrfRefused();
            }

            await http.SignOutAsync(DashboardServiceCollectionExtensions.Scheme);
            return Results.Redirect("/dashboard/login", preserveMethod: false);
        });

        var instance = session.MapGroup("/instances/{instanceId}");
        instance.MapGet("/", PageAsync);
        instance.MapGet("/events", async (string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EventHub hub) =>
            await InstanceAsync(http, store, instanceId) is null ? NotFound() : EventStreamApi.Stream(http, hub, instanceId));
        instance.MapGet("/recovery-window", RecoveryWindowAsync);
        instance.MapGet("/confirm/{action}", ConfirmAsync);
        instance.MapPost("/backups", BackUpAsync);
        instance.MapPost("/restore", RestoreAsync);
        instance.MapPost("/rebuild", RebuildAsync);
        instance.MapPost("/rehearsals", RehearseAsync);
        return app;
    }

    private static async Task<IResult> PageAsync(string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] IAntiforgery csrf, [FromServices] IServiceProvider services)
    {
        if (await InstanceAsync(http, store, instanceId) is not { } instance)
        {
            return NotFound();
        }

        var body = await new DashboardPage(services).RenderAsync(instance, csrf.GetAndStoreTokens(http).RequestToken!, http.RequestAborted);
        return Page(instance.Id, body, instanceId: instance.Id);
    }

    /// <summary>The PostgreSQL point-in-time window, per timeline: a page of its own, since it reads the WAL archive.</summary>
    private static async Task<IResult> RecoveryWindowAsync(string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] EngineRegistry engines, [FromServices] RecoveryPlanner planner)
    {
        if (await InstanceAsync(http, store, instanceId) is not { } instance || engines.Engine(instance.ServiceId).Offering.Name != "postgresql")
        {
            return NotFound();
        }

        var back = $"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}";
        var windows = await planner.WindowsAsync(instance.Id, http.RequestAborted);
        var rows = new System.Text.StringBuilder();
        foreach (var w in windows)
        {
            rows.Append($"<tr><td>{w.Timeline}{(w.Current ? " (current)" : string.Empty)}</td><td>{Time(w.Earliest)}</td><td>{Time(w.Latest)}</td><td><code>{E(w.EarliestBase?.Id)}</code></td></tr>");
        }

        var current = windows.FirstOrDefault(w => w.Current);
        var summary = current is { Earliest: { } from, Latest: { } to }
            ? $"<p data-testid=\"window\">{E(instance.Id)} can be restored to any moment from {Time(from)} to {Time(to)} on its current timeline: <code>steward backup restore {E(instance.Id)} --to-time …</code>.</p>"
            : "<p data-testid=\"window\" class=\"warning\">No point-in-time window yet: it needs a physical backup followed by archived WAL. Restores go to a backup until then.</p>";
        return Page("Recoverable window of " + instance.Id, $"""
            <h1>Recoverable window of {E(instance.Id)}</h1>
            {summary}
            <table><thead><tr><th>timeline</th><th>from</th><th>to</th><th>base backup</th></tr></thead><tbody>{rows}</tbody></table>
            <p><a href="{back}">Back to {E(instance.Id)}</a></p>
            """, instanceId: instance.Id);
    }

    private static async Task<IResult> ConfirmAsync(string instanceId, string action, HttpContext http, [FromServices] IStateStore store, [FromServices] IAntiforgery csrf, [FromServices] BackupService backups, [FromServices] EngineRegistry engines)
    {
        if (await InstanceAsync(http, store, instanceId) is not { } instance)
        {
            return NotFound();
        }

        var token = E(csrf.GetAndStoreTokens(http).RequestToken);
        var back = $"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}";
        switch (action)
        {
            case "backup":
                var service = engines.Engine(instance.ServiceId).Offering.Name;
                var method = backups.Method(service, null);
                return Page("Back up " + instance.Id, $"""
                    <h1>Back up {E(instance.Id)} now?</h1>
                    <p>A <strong>{E(method.Kind)}</strong> backup ({E(method.Description)}) of <strong>{E(instance.Id)}</strong> will be taken and stored in <strong>{E(backups.Storage.Name)}</strong> storage.
                    The instance stays online and keeps serving clients while it runs.</p>
                    <form method="post" action="{back}/backups"><input type="hidden" name="csrf" value="{token}">
                    <button type="submit" class="primary">Back up {E(instance.Id)}</button> <a href="{back}">Cancel</a></form>
                    """, instanceId: instance.Id);
            case "restore":
                var backupId = http.Request.Query["backup"].ToString();
                if (await store.GetBackupAsync(backupId, http.RequestAborted) is not { State: BackupState.Succeeded } backup || backup.InstanceId != instance.Id)
                {
                    return NotFound();
                }

                return Page("Restore " + instance.Id, $"""
                    <h1>Restore {E(instance.Id)} from {E(backup.Id)}?</h1>
                    <p class="warning">All current data of <strong>{E(instance.Id)}</strong> will be <strong>replaced</strong> by the data of backup <code>{E(backup.Id)}</code>
                    ({E(backup.Kind)}, taken {Time(backup.CompletedAt)}, {Bytes(backup.PlaintextBytes)}). Changes made since then are lost.
                    The server is stopped while the verified backup replaces the data, so clients are disconnected until it is back.</p>
                    <form method="post" action="{back}/restore"><input type="hidden" name="csrf" value="{token}"><input type="hidden" name="backup_id" value="{E(backup.Id)}">
                    <button type="submit" class="danger">Replace the data of {E(instance.Id)}</button> <a href="{back}">Cancel</a></form>
                    """, instanceId: instance.Id);
            case "rebuild":
                var newest = (await store.ListBackupsAsync(instance.Id, http.RequestAborted)).Where(b => b.State == BackupState.Succeeded).MaxBy(b => b.StartedAt);
                if (newest is null)
                {
                    return Page("Rebuild " + instance.Id, $"""
                        <h1>{E(instance.Id)} cannot be rebuilt from here</h1>
                        <p class="warning">It has no succeeded backup to rebuild from. An empty rebuild (all data lost) is only offered by the CLI: <code>steward rebuild {E(instance.Id)} --empty</code>.</p>
                        <p><a href="{back}">Back to {E(instance.Id)}</a></p>
                        """, StatusCodes.Status409Conflict, instance.Id);
                }

                return Page("Rebuild " + instance.Id, $"""
                    <h1>Rebuild {E(instance.Id)} from {E(newest.Id)}?</h1>
                    <p class="warning">Whatever runs of <strong>{E(instance.Id)}</strong> is stopped, all its current files are moved aside (kept under the broker's <code>preserved</code> directory), and it is recreated from its newest backup <code>{E(newest.Id)}</code>
                    ({E(newest.Kind)}, taken {Time(newest.StartedAt)}, {Bytes(newest.PlaintextBytes)}). Writes made since that backup are <strong>lost</strong>.
                    It keeps its address and every binding's credentials; clients are disconnected until the rebuilt server passes its health check.</p>
                    <form method="post" action="{back}/rebuild"><input type="hidden" name="csrf" value="{token}">
                    <button type="submit" class="danger">Rebuild {E(instance.Id)} from {E(newest.Id)}</button> <a href="{back}">Cancel</a></form>
                    """, instanceId: instance.Id);
            case "rehearse":
                return await ConfirmRehearsalAsync(instance, http, store, token, back);
            default:
                return NotFound();
        }
    }

    private static async Task<IResult> RebuildAsync(string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] IAntiforgery csrf, [FromServices] InstanceBroker broker)
    {
        if (!await csrf.IsRequestValidAsync(http))
        {
            return CsrfRefused();
        }

        if (await InstanceAsync(http, store, instanceId) is not { } instance)
        {
            return NotFound();
        }

        return await ActAsync(instance, async () => await broker.RebuildAsync(instance.Id, RebuildRequest.Latest, Identity(), http.RequestAborted));
    }

    private static async Task<IResult> BackUpAsync(string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] IAntiforgery csrf, [FromServices] BackupService backups)
    {
        if (!await csrf.IsRequestValidAsync(http))
        {
            return CsrfRefused();
        }

        if (await InstanceAsync(http, store, instanceId) is not { } instance)
        {
            return NotFound();
        }

        return await ActAsync(instance, async () => await backups.StartAsync(instance, null, Identity(), http.RequestAborted));
    }

    private static async Task<IResult> RestoreAsync(string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] IAntiforgery csrf, [FromServices] InstanceBroker broker)
    {
        if (!await csrf.IsRequestValidAsync(http))
        {
            return CsrfRefused();
        }

        if (await InstanceAsync(http, store, instanceId) is not { } instance)
        {
            return NotFound();
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        return await ActAsync(instance, async () => await broker.RestoreAsync(instance.Id, form["backup_id"].ToString(), Identity(), http.RequestAborted));
    }

    private static async Task<IResult> ActAsync(ServiceInstance instance, Func<Task> action)
    {
        try
        {
            await action();
            return Results.Redirect($"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}", preserveMethod: false);
        }
        catch (StewardException ex)
        {
            return Page("Refused", $"<h1>Refused</h1><p>{E(ex.Message)}</p><p><a href=\"/dashboard/instances/{Uri.EscapeDataString(instance.Id)}\">Back to {E(instance.Id)}</a></p>", ErrorCodeMapping.HttpStatus(ex.Code), instance.Id);
        }
    }

    private static async Task<IResult> LoginAsync(HttpContext http, [FromServices] IAntiforgery csrf, [FromServices] IStateStore store)
    {
        if (!await csrf.IsRequestValidAsync(http))
        {
            return CsrfRefused();
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var token = form["token"].ToString().Trim();
        var binding = token.Length == 0 ? null : await store.FindBindingByTokenHashAsync(Secrets.TokenHash(token), http.RequestAborted);
        if (binding is null)
        {
            return LoginPage(http, csrf, "That token is not valid: it is unknown, or its binding was removed.", StatusCodes.Status401Unauthorized);
        }

        await http.SignInAsync(DashboardServiceCollectionExtensions.Scheme, DashboardServiceCollectionExtensions.Principal(binding.InstanceId, binding.Id));
        return Results.Redirect("/dashboard/instances/" + Uri.EscapeDataString(binding.InstanceId), preserveMethod: false);
    }

    private static async Task<IResult> LinkLoginAsync(string ticket, HttpContext http, [FromServices] IAntiforgery csrf, [FromServices] LoginLinks links)
    {
        if (links.Redeem(ticket) is not { } instanceId)
        {
            return LoginPage(http, csrf, "That login link is not valid: links work once, for a few minutes. Ask for a new one with: steward dashboard <instance>", StatusCodes.Status401Unauthorized);
        }

        await http.SignInAsync(DashboardServiceCollectionExtensions.Scheme, DashboardServiceCollectionExtensions.Principal(instanceId, null));
        return Results.Redirect("/dashboard/instances/" + Uri.EscapeDataString(instanceId), preserveMethod: false);
    }

    private static IResult LoginPage(HttpContext http, IAntiforgery csrf, string? error, int status)
    {
        var token = csrf.GetAndStoreTokens(http).RequestToken;
        return Page("Log in", $"""
            <h1>Log in to an instance's dashboard</h1>
            {(error is null ? string.Empty : $"<p class=\"error\" role=\"alert\">{E(error)}</p>")}
            <form method="post" action="/dashboard/login" class="login"><input type="hidden" name="csrf" value="{E(token)}">
            <label for="token">Instance token <small>(<code>steward_api.token</code> of a binding's credentials)</small></label>
            <input id="token" name="token" type="password" autocomplete="off" required>
            <button type="submit" class="primary">Log in</button></form>
            <p class="quiet">Or run <code>steward dashboard &lt;instance&gt;</code> for a one-time login link.</p>
            """, status);
    }

    /// <summary>The session's own instance, if it still exists and is the one asked for; null otherwise.</summary>
    private static async Task<ServiceInstance?> InstanceAsync(HttpContext http, IStateStore store, string instanceId)
    {
        if (http.User.FindFirstValue(DashboardServiceCollectionExtensions.InstanceClaim) != instanceId)
        {
            return null;
        }

        return await store.GetInstanceAsync(instanceId, http.RequestAborted) is { State: not InstanceState.Deleted } instance ? instance : null;
    }

    private static RequestIdentity Identity() => new("dashboard", null);

    private static IResult NotFound() => Page("Not found", "<h1>Not found</h1><p>There is no such instance for this session. <a href=\"/dashboard/login\">Log in</a> with the instance's token.</p>", StatusCodes.Status404NotFound);

    private static IResult CsrfRefused() => Page("Refused", "<h1>Refused</h1><p>The form's CSRF token is missing or does not match this session. Reload the page and try again.</p>", StatusCodes.Status400BadRequest);

    private static IResult Asset(string name)
    {
        var type = name switch
        {
            "dashboard.js" => "text/javascript; charset=utf-8",
            "dashboard.css" => "text/css; charset=utf-8",
            _ => null,
        };
        var stream = type is null ? null : typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("dashboard/" + name);
        return stream is null ? Results.NotFound() : Results.Stream(stream, type);
    }
}

using Microsoft.AspNetCore.Mvc;
using Steward.Server.Backups.Schedules;
using Steward.Server.Api;
using Steward.Server.Backups.Wal;
using Steward.Server.Dashboard;
using Steward.Server.Events;
using Steward.Server.HighAvailability;
using Steward.Server.Metrics;
using Steward.Server.Osb;
using Steward.Server.Rehearsals;
using Steward.Server.StateStore;

namespace Steward.Server.Http;

/// <summary>Every endpoint the broker serves, mapped in one place (the endpoint tests enumerate exactly these).</summary>
internal static class StewardEndpoints
{
    public static IEndpointRouteBuilder MapStewardEndpoints(this IEndpointRouteBuilder app)
    {
        // OSB: the broker's credentials, by the fallback policy.
        app.MapOsb();

        // Steward's own API: broker credentials or an instance token, scoped to its instance.
        var api = app.MapScopedApi("/api/v1");
        api.MapInstanceApi();
        api.MapBackupApi();
        api.MapEventStream();
        api.MapScheduleApi();
        api.MapWalApi();
        api.MapRebuildApi();
        api.MapDashboardLinks();
        api.MapHaApi();
        api.MapRehearsalApi();
        Repair.VerifyApi.MapVerifyApi(api);
        Repair.RepairApi.MapRepairApi(api);

        // WAL archive_command / restore_command: the instance's own archive secret, checked by the endpoints.
        app.MapWalEndpoints();

        // Prometheus metrics: the broker's credentials, by the fallback policy.
        app.MapStewardMetrics();

        // The per-instance dashboard: its own cookie scheme and policy (a session sees its one instance), the
        // login page and its assets anonymous; neither the broker's credentials nor tokens open it.
        app.MapStewardDashboard();

        // The index says whether this broker is the active one; readiness is that, for a load balancer or a Kubernetes
        // Service to send the platform to the active broker only (docs/state-store.md).
        app.MapGet("/", ([FromServices] BrokerRole role) => Results.Json(new { name = "steward", osb = "/v2/catalog", api = "/api/v1/instances", role = role.Name, active = role.ActiveHolder })).AllowAnonymous();
        app.MapGet("/readyz", ([FromServices] BrokerRole role) => Results.Json(new { role = role.Name, active = role.ActiveHolder }, statusCode: role.IsActive ? 200 : 503)).AllowAnonymous();
        return app;
    }
}

using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Steward.Backups;
using Steward.Instances;
using Steward.Server.Rehearsals;
using Steward.State;
using static Steward.Server.Dashboard.Html;

namespace Steward.Server.Dashboard;

/// <summary>The dashboard's "Rehearse…": a confirmation naming the backup and the sandbox, then the rehearsal itself.</summary>
internal static partial class DashboardEndpoints
{
    /// <summary>The backup asked for (<c>?backup=</c>, one of the instance's succeeded ones) or the newest succeeded one.</summary>
    private static async Task<IResult> ConfirmRehearsalAsync(ServiceInstance instance, HttpContext http, IStateStore store, string token, string back)
    {
        var asked = http.Request.Query["backup"].ToString();
        BackupRecord? backup;
        if (asked.Length > 0)
        {
            backup = await store.GetBackupAsync(asked, http.RequestAborted);
            if (backup is not { State: BackupState.Succeeded } || backup.InstanceId != instance.Id)
            {
                return NotFound();
            }
        }
        else
        {
            backup = (await store.ListBackupsAsync(instance.Id, http.RequestAborted)).Where(b => b.State == BackupState.Succeeded).MaxBy(b => b.CompletedAt);
            if (backup is null)
            {
                return Page("Rehearse " + instance.Id, $"""
                    <h1>{E(instance.Id)} has nothing to rehearse yet</h1>
                    <p class="warning">A rehearsal restores a backup into a sandbox, and {E(instance.Id)} has no succeeded backup. Back it up first.</p>
                    <p><a href="{back}">Back to {E(instance.Id)}</a></p>
                    """, StatusCodes.Status409Conflict, instance.Id);
            }
        }

        var which = asked.Length > 0 ? "backup" : "its newest succeeded backup";
        return Page("Rehearse " + instance.Id, $"""
            <h1>Rehearse a restore of {E(instance.Id)} from {E(backup.Id)}?</h1>
            <p>{E(which)} <code>{E(backup.Id)}</code> ({E(backup.Kind)}, taken {Time(backup.StartedAt)}, {Bytes(backup.PlaintextBytes)}) will be restored into an <strong>isolated sandbox</strong>:
            its own directory and loopback port, none of the instance's credentials or bindings, at low CPU and IO priority. Then its data is checked
            (the engine's integrity check, the counts recorded at backup time) and the restore time measured; the sandbox is removed afterwards.</p>
            <p><strong>The live instance {E(instance.Id)} is not touched</strong>: its data, port, processes and clients are left alone, and it keeps serving while the rehearsal runs.
            If a check fails, the backup is reported as not restorable (an incident).</p>
            <form method="post" action="{back}/rehearsals"><input type="hidden" name="csrf" value="{token}"><input type="hidden" name="backup_id" value="{E(backup.Id)}">
            <button type="submit" class="primary">Rehearse {E(backup.Id)}</button> <a href="{back}">Cancel</a></form>
            """, instanceId: instance.Id);
    }

    private static async Task<IResult> RehearseAsync(string instanceId, HttpContext http, [FromServices] IStateStore store, [FromServices] IAntiforgery csrf, [FromServices] RehearsalService rehearsals)
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
        var backupId = form["backup_id"].ToString();
        var request = RehearsalRequest.Latest with { BackupId = backupId.Length == 0 ? null : backupId };
        return await ActAsync(instance, async () => await rehearsals.StartAsync(instance.Id, request, "dashboard", http.RequestAborted));
    }
}

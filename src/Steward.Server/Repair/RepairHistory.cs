using Steward.State;
using Steward.Supervision;

namespace Steward.Server.Repair;

/// <summary>When an instance was last repaired: the checksum failures its server counted before then are the repaired pages'.</summary>
internal static class RepairHistory
{
    public static async Task<DateTimeOffset?> LastRepairedAtAsync(IStateStore store, string instanceId, CancellationToken cancellationToken) =>
        (await store.ListIncidentsAsync(instanceId, cancellationToken))
            .Where(i => i.Class == FailureClass.DataCorruption && i.State == IncidentState.Resolved && i.Evidence.ContainsKey("repair"))
            .Select(i => (DateTimeOffset?)i.UpdatedAt)
            .Max();
}

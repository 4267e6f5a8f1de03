using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Steward.Instances;
using Steward.Operations;
using Steward.Server.Retention;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.StateStore;
using Steward.Supervision;

namespace Steward.Server.Tests.Retention;

/// <summary>The state database (SQLite or PostgreSQL) keeps recent history and what is still in use, and loses only what retention lets go.</summary>
public sealed class HistoryRetentionTests(StatePostgres postgres) : StoreTests(postgres)
{
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Old_finished_operations_and_closed_incidents_are_pruned_and_everything_still_in_use_is_kept(string kind)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (store, _) = await Stores.CreateAsync(kind);
        var old = clock.GetUtcNow();
        await store.SaveInstanceAsync(Instance("live", InstanceState.Ready, old), CancellationToken.None);
        await store.SaveInstanceAsync(Instance("gone", InstanceState.Deleted, old), CancellationToken.None);

        // Old history: three finished provisions/updates of "live" (the newest of them is its last_operation), one
        // still in progress, a resolved incident, a quarantined one of the live instance, an open one of a deleted one.
        await store.SaveOperationAsync(Op("op-1", "live", OperationKind.Provision, OperationState.Succeeded, old), CancellationToken.None);
        await store.SaveOperationAsync(Op("op-2", "live", OperationKind.Update, OperationState.Failed, old), CancellationToken.None);
        await store.SaveOperationAsync(Op("op-run", "gone", OperationKind.Deprovision, OperationState.InProgress, old), CancellationToken.None);
        await store.SaveOperationAsync(Op("op-3", "live", OperationKind.Update, OperationState.Succeeded, old), CancellationToken.None);
        await store.SaveIncidentAsync(Incident("inc-resolved", "live", IncidentState.Resolved, old), CancellationToken.None);
        await store.SaveIncidentAsync(Incident("inc-quarantined", "live", IncidentState.Quarantined, old), CancellationToken.None);
        await store.SaveIncidentAsync(Incident("inc-of-deleted", "gone", IncidentState.Open, old), CancellationToken.None);

        clock.Advance(TimeSpan.FromDays(100));
        var recent = clock.GetUtcNow();
        await store.SaveOperationAsync(Op("op-new", "other", OperationKind.Provision, OperationState.Succeeded, recent), CancellationToken.None);
        await store.SaveIncidentAsync(Incident("inc-new", "live", IncidentState.Resolved, recent), CancellationToken.None);

        var pruner = new HistoryPruner(store, Microsoft.Extensions.Options.Options.Create(new HistoryRetentionOptions { OperationsDays = 90, IncidentsDays = 90 }), clock, NullLogger<HistoryPruner>.Instance);
        (await pruner.PruneAsync(CancellationToken.None)).ShouldBe((2, 2));

        (await store.GetOperationAsync("op-1", CancellationToken.None)).ShouldBeNull("an old finished operation goes");
        (await store.GetOperationAsync("op-2", CancellationToken.None)).ShouldBeNull();
        (await store.LatestInstanceOperationAsync("live", CancellationToken.None))!.Id.ShouldBe("op-3", "the latest stays for last_operation, however old");
        (await store.GetOperationAsync("op-run", CancellationToken.None)).ShouldNotBeNull("an operation in progress is never pruned");
        (await store.GetOperationAsync("op-new", CancellationToken.None)).ShouldNotBeNull();
        (await store.GetIncidentAsync("inc-resolved", CancellationToken.None)).ShouldBeNull();
        (await store.GetIncidentAsync("inc-of-deleted", CancellationToken.None)).ShouldBeNull();
        (await store.GetIncidentAsync("inc-quarantined", CancellationToken.None)).ShouldNotBeNull("a fenced instance's incident waits for its operator");
        (await store.GetIncidentAsync("inc-new", CancellationToken.None)).ShouldNotBeNull();

        var none = new HistoryPruner(store, Microsoft.Extensions.Options.Options.Create(new HistoryRetentionOptions { OperationsDays = 0, IncidentsDays = 0 }), clock, NullLogger<HistoryPruner>.Instance);
        clock.Advance(TimeSpan.FromDays(1000));
        (await none.PruneAsync(CancellationToken.None)).ShouldBe((0, 0), "0 keeps everything");
    }

    private static ServiceInstance Instance(string id, InstanceState state, DateTimeOffset at) => new()
    {
        Id = id, InternalId = "i" + id, ServiceId = "s", PlanId = "p", AdminUser = "a", AdminPassword = "pw", State = state, CreatedAt = at, UpdatedAt = at,
    };

    private static Operation Op(string id, string instance, OperationKind kind, OperationState state, DateTimeOffset at) => new()
    {
        Id = id, InstanceId = instance, Kind = kind, State = state, Description = "d", CreatedAt = at, UpdatedAt = at,
    };

    private static Incident Incident(string id, string instance, IncidentState state, DateTimeOffset at) => new()
    {
        Id = id, InstanceId = instance, Class = FailureClass.KilledBySignal, State = state, Summary = "s", OpenedAt = at, UpdatedAt = at,
    };
}

using Steward.Operations;
using Steward.Server.Operations;
using Steward.State.Sqlite;

namespace Steward.Server.Tests.Units;

/// <summary>
/// Whether an operation holds an instance is answered from the operation runner's memory once it has taken over the
/// operations a previous broker left in progress; until then, from the state store.
/// </summary>
public sealed class OperationsInFlightTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("in-flight-").FullName;

    [Fact]
    public async Task The_store_answers_until_the_runner_has_recovered_then_memory_answers_alone()
    {
        var store = new SqliteStateStore(Path.Combine(_root, "steward.db"), Steward.Security.CredentialKey.LoadOrCreate(Path.Combine(_root, "credentials.key")));
        await store.InitializeAsync(CancellationToken.None);
        var left = Operation("left-by-a-dead-broker");
        await store.SaveOperationAsync(left, CancellationToken.None);
        var inFlight = new OperationsInFlight(store);

        // At start, before the runner has queued what was left in progress: the store says it is held.
        (await inFlight.HoldsAsync(left.InstanceId, CancellationToken.None)).ShouldBeTrue();
        (await inFlight.HoldsAsync("idle", CancellationToken.None)).ShouldBeFalse();
        inFlight.StoreLookups.ShouldBe(2);

        // The runner queues it (held) and says it has recovered: memory answers, the store is not asked again.
        inFlight.Hold(left);
        inFlight.Recovered();
        (await inFlight.HoldsAsync(left.InstanceId, CancellationToken.None)).ShouldBeTrue();

        // Two operations of one instance (one queued behind the other): held until both ended.
        var next = Operation(left.InstanceId);
        inFlight.Hold(next);
        inFlight.Release(left);
        (await inFlight.HoldsAsync(left.InstanceId, CancellationToken.None)).ShouldBeTrue("the second operation still holds it");
        inFlight.Release(next);
        (await inFlight.HoldsAsync(left.InstanceId, CancellationToken.None)).ShouldBeFalse("both ended; the store's record of the first, still in progress, is not asked");
        inFlight.StoreLookups.ShouldBe(2, "after recovery every answer came from memory");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static Operation Operation(string instanceId) => new()
    {
        Id = "op-" + Guid.NewGuid().ToString("N")[..12],
        InstanceId = instanceId,
        Kind = OperationKind.Update,
        State = OperationState.InProgress,
        Description = "update requested",
        CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
    };
}

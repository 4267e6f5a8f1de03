using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.StateStore;

/// <summary>A test class whose theories run once on each state store (<see cref="Kinds"/>), each on a store of its own.</summary>
[Collection("state-postgres")]
public abstract class StoreTests(StatePostgres postgres) : IAsyncLifetime
{
    public static TheoryData<string> Kinds => StoreFactory.Kinds;

    protected StatePostgres Postgres => postgres;

    protected StoreFactory Stores { get; } = new(postgres);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync() => await Stores.DisposeAsync();
}

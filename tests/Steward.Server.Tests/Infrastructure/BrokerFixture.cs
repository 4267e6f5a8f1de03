namespace Steward.Server.Tests.Infrastructure;

/// <summary>One broker shared by the tests of the "broker" collection.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private StewardServer? _server;

    public StewardServer Server => _server ?? throw new InvalidOperationException("broker not started");

    public OsbClient Client => Server.Client;

    // With a warm pool of one, so the shared tests provision both from the pool and from scratch.
    public async Task InitializeAsync() => _server = await StewardServer.StartAsync(new Dictionary<string, string> { ["STEWARD_POOL_POSTGRESQL_SIZE"] = "1" });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition("broker")]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>;

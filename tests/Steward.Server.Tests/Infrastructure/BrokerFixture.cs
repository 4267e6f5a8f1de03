namespace Steward.Server.Tests.Infrastructure;

/// <summary>One broker shared by the tests of the "broker" collection.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private StewardServer? _server;

    public StewardServer Server => _server ?? throw new InvalidOperationException("broker not started");

    public OsbClient Client => Server.Client;

    public async Task InitializeAsync() => _server = await StewardServer.StartAsync();

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

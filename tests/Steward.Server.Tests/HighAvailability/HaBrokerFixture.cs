using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>A broker whose HA controller looks every 200 ms and calls a primary hung after 2 checks of 2 s (generous: the test machine is shared).</summary>
public sealed class HaBrokerFixture : IAsyncLifetime
{
    public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["STEWARD_HA_TICK_MS"] = "200",
        ["STEWARD_HA_CHECK_TIMEOUT_MS"] = "2000",
        ["STEWARD_HA_FAILURES"] = "2",
        ["STEWARD_HA_FAILOVER_LIMIT"] = "20",
    };

    private StewardServer? _server;

    public StewardServer Server => _server!;

    public async Task InitializeAsync() => _server = await StewardServer.StartAsync(Settings);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition("ha")]
public sealed class HaCollection : ICollectionFixture<HaBrokerFixture>;

using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Supervision;

/// <summary>
/// A broker whose supervisor checks every 200 ms, restarts after 100 ms of backoff and allows 3 restarts a
/// minute: the production policy (5 s, 1 s doubling, 5 in 300 s) scaled down so failures play out in seconds.
/// </summary>
public sealed class SupervisedBrokerFixture : IAsyncLifetime
{
    public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["STEWARD_HEALTH_INTERVAL_MS"] = "200",
        ["STEWARD_HEALTH_TIMEOUT_MS"] = "700",
        ["STEWARD_HEALTH_FAILURES"] = "3",
        ["STEWARD_RESTART_LIMIT"] = "3",
        ["STEWARD_RESTART_WINDOW_MS"] = "60000",
        ["STEWARD_RESTART_BACKOFF_MS"] = "100",
        ["STEWARD_MIN_UPTIME_MS"] = "3000",
        ["STEWARD_STARTUP_TIMEOUT_MS"] = "15000",
    };

    private StewardServer? _server;

    public StewardServer Server => _server!;

    public OsbClient Client => Server.Client;

    public async Task InitializeAsync() => _server = await StewardServer.StartAsync(Settings);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition("supervised")]
public sealed class SupervisedCollection : ICollectionFixture<SupervisedBrokerFixture>;

using System.Net;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>
/// One broker for the tests that provision, and one ready Redis and one ready PostgreSQL instance that tests
/// may bind to and read but must not update or delete. Each is provisioned on first use only.
/// </summary>
public sealed class LifecycleFixture : IAsyncLifetime
{
    private readonly Lock _gate = new();
    private StewardServer? _server;
    private Task<SharedInstance>? _redis;
    private Task<SharedInstance>? _postgres;

    public StewardServer Server => _server ?? throw new InvalidOperationException("broker not started");

    public OsbClient Client => Server.Client;

    public Task<SharedInstance> RedisAsync()
    {
        lock (_gate)
        {
            return _redis ??= ProvisionAsync("shared-redis", Catalogs.Redis, Catalogs.RedisStandalone);
        }
    }

    public Task<SharedInstance> PostgreSqlAsync()
    {
        lock (_gate)
        {
            return _postgres ??= ProvisionAsync("shared-pg", Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);
        }
    }

    public async Task InitializeAsync() => _server = await StewardServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task<SharedInstance> ProvisionAsync(string prefix, string serviceId, string planId)
    {
        var id = Ids.New(prefix);
        var started = await Client.ProvisionAsync(id, serviceId, planId);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var operation = started.Str("operation").ShouldNotBeNull();
        var done = await Client.WaitAsync(id, operation);
        done.Str("state").ShouldBe("succeeded", done.ToString());
        return new SharedInstance(id, serviceId, planId, operation);
    }
}

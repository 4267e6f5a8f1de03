using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Supervision;

namespace Steward.Server.Tests.Observability;

/// <summary>One broker with the fast supervision policy, shared by the metrics, event and dashboard tests.</summary>
public sealed class ObservedBroker : IAsyncLifetime
{
    public StewardServer Server { get; private set; } = null!;

    public OsbClient Osb => Server.Client;

    public async Task InitializeAsync() => Server = await StewardServer.StartAsync(new Dictionary<string, string>(SupervisedBrokerFixture.Settings));

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>GET /metrics with the broker's credentials, checked by promtool and parsed.</summary>
    public Task<Exposition> ScrapeAsync() => ScrapeAsync(Server);

    /// <summary>GET /metrics of <paramref name="server"/> with its credentials, checked by promtool and parsed.</summary>
    public static async Task<Exposition> ScrapeAsync(StewardServer server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")));
        using var response = await server.Http.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        var text = await response.Content.ReadAsStringAsync();
        await Promtool.CheckMetricsAsync(text);
        return Exposition.Parse(text);
    }
}

[CollectionDefinition("observed")]
public sealed class ObservedCollection : ICollectionFixture<ObservedBroker>;

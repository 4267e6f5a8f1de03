using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Headers;

[Collection(RefusalCollection.Name)]
public sealed class VersionHeaderTests(BrokerFixture broker)
{
    private OsbClient Osb => broker.Client;

    [Fact]
    public async Task A_request_without_X_Broker_API_Version_returns_412_with_an_error_body()
    {
        (await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", version: null)).ShouldBeOsbError(HttpStatusCode.PreconditionFailed);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("2.12")]
    [InlineData("3.0")]
    [InlineData("abc")]
    [InlineData("2")]
    public async Task A_request_with_an_unsupported_X_Broker_API_Version_returns_412(string version)
    {
        (await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", version: version)).ShouldBeOsbError(HttpStatusCode.PreconditionFailed);
    }

    [Theory]
    [InlineData("2.13")]
    [InlineData("2.14")]
    [InlineData("2.15")]
    [InlineData("2.16")]
    [InlineData("2.17")]
    public async Task A_request_with_a_supported_X_Broker_API_Version_is_served(string version)
    {
        var reply = await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", version: version);
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
    }

    [Fact]
    public async Task A_provision_without_X_Broker_API_Version_returns_412_and_creates_nothing()
    {
        var id = Ids.New("noversion");
        var reply = await Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", OsbClientExtensions.ProvisionBody(Catalogs.Redis, Catalogs.RedisStandalone), version: null);
        reply.ShouldBeOsbError(HttpStatusCode.PreconditionFailed);
        (await Osb.InstanceIdsAsync()).ShouldNotContain(id);
        broker.Server.InstanceDirectories().ShouldBeEmpty();
    }
}

using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Headers;

[Collection(RefusalCollection.Name)]
public sealed class AuthenticationTests(BrokerFixture broker)
{
    [Fact]
    public async Task A_request_without_credentials_returns_401_with_a_Basic_challenge_and_an_error_body()
    {
        var reply = await broker.Client.SendAsync(HttpMethod.Get, "/v2/catalog", authenticate: false);
        reply.ShouldBeOsbError(HttpStatusCode.Unauthorized);
        reply.Headers.WwwAuthenticate.ShouldContain(h => h.Scheme == "Basic");
    }

    [Fact]
    public async Task A_request_with_a_wrong_password_returns_401()
    {
        var reply = await broker.Server.As(broker.Server.Username, broker.Server.Password + "x").SendAsync(HttpMethod.Get, "/v2/catalog");
        reply.ShouldBeOsbError(HttpStatusCode.Unauthorized);
        reply.Headers.WwwAuthenticate.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task A_request_with_a_wrong_user_name_returns_401()
    {
        (await broker.Server.As("admin", broker.Server.Password).SendAsync(HttpMethod.Get, "/v2/catalog")).ShouldBeOsbError(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("Basic !!!not-base64!!!")]
    [InlineData("Basic cGxhdGZvcm0=")]
    [InlineData("Bearer abc")]
    public async Task A_request_with_a_malformed_Authorization_header_returns_401(string authorization)
    {
        var reply = await broker.Client.SendAsync(HttpMethod.Get, "/v2/catalog", authenticate: false, headers: new Dictionary<string, string> { ["Authorization"] = authorization });
        reply.ShouldBeOsbError(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_unauthenticated_provision_returns_401_and_creates_nothing()
    {
        var id = Ids.New("noauth");
        var reply = await broker.Client.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", OsbClientExtensions.ProvisionBody(Catalogs.Redis, Catalogs.RedisStandalone), authenticate: false);
        reply.ShouldBeOsbError(HttpStatusCode.Unauthorized);
        (await broker.Client.InstanceIdsAsync()).ShouldNotContain(id);
        broker.Server.InstanceDirectories().ShouldBeEmpty();
    }

    [Fact]
    public async Task Stewards_own_API_requires_credentials_too()
    {
        (await broker.Client.SendAsync(HttpMethod.Get, "/api/v1/instances", version: null, authenticate: false)).ShouldBeOsbError(HttpStatusCode.Unauthorized);
    }
}

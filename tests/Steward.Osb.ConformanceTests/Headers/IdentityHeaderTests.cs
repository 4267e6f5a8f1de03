using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Headers;

[Collection(RefusalCollection.Name)]
public sealed class IdentityHeaderTests(BrokerFixture broker)
{
    private const string RequestIdentity = "X-Broker-API-Request-Identity";
    private const string OriginatingIdentity = "X-Broker-API-Originating-Identity";

    private OsbClient Osb => broker.Client;

    public static TheoryData<string> Requests => ["catalog 200", "no version 412", "no credentials 401", "unknown instance 404", "bad body 400", "AsyncRequired 422"];

    public static TheoryData<string> MalformedOriginatingIdentities =>
    [
        "cloudfoundry",
        "cloudfoundry !!!not-base64!!!",
        OsbClientExtensions.OriginatingIdentity("cloudfoundry", "not json"),
        OsbClientExtensions.OriginatingIdentity("cloudfoundry", "[\"user_id\"]"),
        OsbClientExtensions.OriginatingIdentity("cloudfoundry", "\"dev-42\""),
    ];

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task The_request_identity_is_echoed_on_success_and_on_errors(string request)
    {
        var identity = Guid.NewGuid().ToString();
        var headers = new Dictionary<string, string> { [RequestIdentity] = identity };
        var reply = request switch
        {
            "catalog 200" => await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", headers: headers),
            "no version 412" => await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", version: null, headers: headers),
            "no credentials 401" => await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", authenticate: false, headers: headers),
            "unknown instance 404" => await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{Ids.New("unknown")}", headers: headers),
            "bad body 400" => await Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{Ids.New("bad")}?accepts_incomplete=true", "{", headers: headers),
            _ => await Osb.ProvisionAsync(Ids.New("sync"), Catalogs.Redis, Catalogs.RedisStandalone, acceptsIncomplete: false, headers: headers),
        };

        var expected = int.Parse(request[^3..], System.Globalization.CultureInfo.InvariantCulture);
        ((int)reply.Status).ShouldBe(expected, reply.ToString());
        reply.Headers.TryGetValues(RequestIdentity, out var echoed).ShouldBeTrue($"{RequestIdentity} is not echoed on {reply}");
        echoed.ShouldBe([identity]);
    }

    [Theory]
    [MemberData(nameof(MalformedOriginatingIdentities))]
    public async Task A_malformed_originating_identity_returns_400(string value)
    {
        var reply = await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", headers: new Dictionary<string, string> { [OriginatingIdentity] = value });
        reply.ShouldBeOsbErrorNaming(HttpStatusCode.BadRequest, OriginatingIdentity);
    }

    [Fact]
    public async Task A_provision_with_a_malformed_originating_identity_returns_400_and_creates_nothing()
    {
        var id = Ids.New("badidentity");
        var reply = await Osb.ProvisionAsync(id, Catalogs.Redis, Catalogs.RedisStandalone, headers: new Dictionary<string, string> { [OriginatingIdentity] = "cloudfoundry" });
        reply.ShouldBeOsbError(HttpStatusCode.BadRequest);
        (await Osb.InstanceIdsAsync()).ShouldNotContain(id);
        broker.Server.InstanceDirectories().ShouldBeEmpty();
    }

    [Fact]
    public async Task A_well_formed_originating_identity_is_accepted()
    {
        var value = OsbClientExtensions.OriginatingIdentity("cloudfoundry", "{\"user_id\":\"683ea748-3092-4ff4-b656-39cacc4d5360\"}");
        var reply = await Osb.SendAsync(HttpMethod.Get, "/v2/catalog", headers: new Dictionary<string, string> { [OriginatingIdentity] = value });
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
    }
}

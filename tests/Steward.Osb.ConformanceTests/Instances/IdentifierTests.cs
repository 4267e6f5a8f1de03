using System.Net;
using Steward.Osb.ConformanceTests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Instances;

/// <summary>Instance and binding ids that could be paths, shell words or control characters.</summary>
[Collection(RefusalCollection.Name)]
public sealed class IdentifierTests(BrokerFixture broker)
{
    private const string Redis = Catalogs.Redis;
    private const string RedisPlan = Catalogs.RedisStandalone;

    private OsbClient Osb => broker.Client;

    /// <summary>Ids as they appear in the URL (percent-encoded where a platform would encode them).</summary>
    private static readonly string[] Hostile =
    [
        "a%2F..%2Fb",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "x;rm",
        "x%20rm%20-rf",
        "%24(id)",
        "%00",
        "a%00b",
        "a%0Ab",
        "%C3%A9t%C3%A9",
        new string('a', 200),
        ".hidden",
        "-rf",
        "a..b",
    ];

    /// <summary>
    /// As a binding id, a lone dot segment is removed by URL normalization (RFC 3986 5.2.4) and the request
    /// becomes one about the instance, so these are tested in the instance position only.
    /// </summary>
    public static TheoryData<string> HostileInstanceIds => new([.. Hostile, "..", "%2E%2E", "."]);

    public static TheoryData<string> HostileBindingIds => new(Hostile);

    [Theory]
    [MemberData(nameof(HostileInstanceIds))]
    public async Task A_hostile_instance_id_is_refused_with_400_or_404_by_every_instance_endpoint(string id)
    {
        var before = await Osb.InstanceIdsAsync();
        var body = OsbClientExtensions.ProvisionBody(Redis, RedisPlan);
        var replies = new Dictionary<string, Reply>
        {
            ["PUT"] = await Osb.PutInstanceRawAsync(id, body),
            ["PATCH"] = await Osb.SendAsync(HttpMethod.Patch, $"/v2/service_instances/{id}?accepts_incomplete=true", body),
            ["GET"] = await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}"),
            ["last_operation"] = await Osb.SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}/last_operation"),
            ["DELETE"] = await Osb.SendAsync(HttpMethod.Delete, $"/v2/service_instances/{id}?service_id={Redis}&plan_id={RedisPlan}&accepts_incomplete=true"),
            ["bind"] = await Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}/service_bindings/b1", body),
        };

        ShouldAllBeRefused(replies);
        (await Osb.InstanceIdsAsync()).ShouldBe(before);
        broker.Server.InstanceDirectories().ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(HostileBindingIds))]
    public async Task A_hostile_binding_id_is_refused_with_400_or_404_by_every_binding_endpoint(string bindingId)
    {
        var instance = Ids.New("inst");
        var base_ = $"/v2/service_instances/{instance}/service_bindings/{bindingId}";
        var replies = new Dictionary<string, Reply>
        {
            ["PUT"] = await Osb.SendAsync(HttpMethod.Put, base_, OsbClientExtensions.ProvisionBody(Redis, RedisPlan)),
            ["GET"] = await Osb.SendAsync(HttpMethod.Get, base_),
            ["last_operation"] = await Osb.SendAsync(HttpMethod.Get, base_ + "/last_operation"),
            ["DELETE"] = await Osb.SendAsync(HttpMethod.Delete, $"{base_}?service_id={Redis}&plan_id={RedisPlan}"),
        };

        ShouldAllBeRefused(replies);
        broker.Server.InstanceDirectories().ShouldBeEmpty();
    }

    private static void ShouldAllBeRefused(Dictionary<string, Reply> replies) =>
        replies.ShouldSatisfyAllConditions(replies.Select(r => (Action)(() =>
            r.Value.Status.ShouldBeOneOf([HttpStatusCode.BadRequest, HttpStatusCode.NotFound], $"{r.Key}: {r.Value}"))).ToArray());
}

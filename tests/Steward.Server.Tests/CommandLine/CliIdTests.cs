using System.Net;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.CommandLine;

/// <summary>The CLI applies the broker's id rule before sending anything, and provisions as OSB v2.17 requires.</summary>
[Collection("broker")]
public sealed class CliIdTests(BrokerFixture broker)
{
    public static TheoryData<string[]> BadIds => new()
    {
        new[] { "create", Catalogs.Redis, Catalogs.RedisStandalone, "--id", ".hidden" },
        new[] { "create", Catalogs.Redis, Catalogs.RedisStandalone, "--id", "a..b" },
        new[] { "show", "a/../b" },
        new[] { "bind", "db1", "--binding-id", ".x" },
        new[] { "backup", "show", "..%2fetc" },
        new[] { "incidents", "list", "--instance", "x y" },
    };

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task An_id_the_broker_would_refuse_is_a_usage_error_and_nothing_is_sent(string[] arguments)
    {
        var before = await InstanceIdsAsync();
        var result = await RunAsync(arguments);
        result.ExitCode.ShouldBe(2, result.ToString());
        result.Stderr.ShouldContain("ids are 1 to 128 letters", Case.Sensitive, result.ToString());
        (await InstanceIdsAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task Create_sends_the_organization_and_space_it_is_given()
    {
        var id = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var result = await RunAsync("create", Catalogs.Redis, Catalogs.RedisStandalone, "--id", id, "--organization", "org-cli", "--space", "space-cli");
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Stdout.Trim().ShouldBe(id);

        // Provisioned with exactly these: the same request from a platform is identical (200), another organization conflicts.
        string Body(string org) => $$"""{"service_id":"{{Catalogs.Redis}}","plan_id":"{{Catalogs.RedisStandalone}}","organization_guid":"{{org}}","space_guid":"space-cli"}""";
        (await broker.Client.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", Body("org-cli"))).Status.ShouldBe(HttpStatusCode.OK);
        (await broker.Client.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true", Body("org-1"))).Status.ShouldBe(HttpStatusCode.Conflict);
        await broker.Client.DeprovisionGoneAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
    }

    private async Task<string[]> InstanceIdsAsync() =>
        [.. (await broker.Client.ApiAsync("/instances")).Body.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).Order()];

    private Task<Cli.Result> RunAsync(params string[] arguments) => Cli.RunAsync(
        new Dictionary<string, string?> { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = broker.Server.Username, ["STEWARD_PASSWORD"] = broker.Server.Password },
        null,
        arguments);
}

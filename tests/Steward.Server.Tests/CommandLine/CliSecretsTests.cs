using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.CommandLine;

/// <summary>
/// A secret never travels on the CLI's command line, where every local user reads it (<c>ps</c>,
/// <c>/proc/&lt;pid&gt;/cmdline</c>): it comes from the environment, a file, or standard input.
/// </summary>
[Collection("broker")]
public sealed class CliSecretsTests(BrokerFixture broker)
{
    [Theory]
    [InlineData("--token", "STEWARD_TOKEN")]
    [InlineData("--password", "STEWARD_PASSWORD")]
    public async Task A_secret_given_as_an_argument_is_refused_before_anything_is_sent_and_is_not_echoed(string option, string variable)
    {
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var id = "cli-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var arguments in new[] { new[] { option, secret, "create", Catalogs.Redis, Catalogs.RedisStandalone, "--id", id }, ["create", Catalogs.Redis, Catalogs.RedisStandalone, "--id", id, $"{option}={secret}"] })
        {
            var result = await Cli.RunAsync(Broker(), null, arguments);
            result.ExitCode.ShouldBe(2, result.ToString());
            result.Stderr.ShouldContain($"{option} is not accepted", Case.Sensitive, result.ToString());
            result.Stderr.ShouldContain(variable, Case.Sensitive);
            result.Stderr.ShouldContain($"{option}-file", Case.Sensitive);
            (result.Stdout + result.Stderr).ShouldNotContain(secret);
        }

        (await broker.Client.GetInstanceAsync(id)).Status.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_token_from_a_file_or_standard_input_acts_on_its_own_instance_and_never_reaches_another()
    {
        var mine = "tok-" + Guid.NewGuid().ToString("N")[..8];
        var theirs = "their-" + Guid.NewGuid().ToString("N")[..8];
        await broker.Client.ProvisionReadyAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
        await broker.Client.ProvisionReadyAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        try
        {
            var token = (await broker.Client.BindReadyAsync(mine, "b-" + mine, Catalogs.Redis, Catalogs.RedisStandalone)).GetProperty("steward_api").GetProperty("token").GetString()!;
            var file = Path.Combine(Path.GetTempPath(), "steward-token-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(file, token + "\n");
            try
            {
                // No broker credentials anywhere: only the token authenticates.
                var env = new Dictionary<string, string?> { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = null, ["STEWARD_PASSWORD"] = null, ["STEWARD_TOKEN"] = null, ["STEWARD_DATA_DIR"] = "/nonexistent" };
                var fromFile = await Cli.RunAsync(env, null, "--token-file", file, "show", mine, "--json");
                fromFile.ExitCode.ShouldBe(0, fromFile.ToString());
                fromFile.Stdout.ShouldContain($"\"{mine}\"");

                var fromStdin = await Cli.RunAsync(env, token + "\n", "--token-file", "-", "show", mine, "--json");
                fromStdin.ExitCode.ShouldBe(0, fromStdin.ToString());
                fromStdin.Stdout.ShouldContain($"\"{mine}\"");

                var other = await Cli.RunAsync(env, null, "--token-file", file, "show", theirs);
                other.ExitCode.ShouldNotBe(0, other.ToString());
                other.Stdout.ShouldNotContain(theirs);

                var empty = await Cli.RunAsync(env, "\n", "--token-file", "-", "show", mine);
                empty.ExitCode.ShouldBe(2, empty.ToString());
                empty.Stderr.ShouldContain("--token-file -: standard input is empty");

                var missing = await Cli.RunAsync(env, null, "--token-file", file + ".missing", "show", mine);
                missing.ExitCode.ShouldBe(2, missing.ToString());
                missing.Stderr.ShouldContain($"--token-file {file}.missing:");
            }
            finally
            {
                File.Delete(file);
            }
        }
        finally
        {
            await broker.Client.DeprovisionGoneAsync(mine, Catalogs.Redis, Catalogs.RedisStandalone);
            await broker.Client.DeprovisionGoneAsync(theirs, Catalogs.Redis, Catalogs.RedisStandalone);
        }
    }

    [Fact]
    public async Task The_broker_password_from_a_file_authenticates()
    {
        var file = Path.Combine(Path.GetTempPath(), "steward-password-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, broker.Server.Password);
        try
        {
            var env = new Dictionary<string, string?> { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = null, ["STEWARD_PASSWORD"] = null, ["STEWARD_TOKEN"] = null, ["STEWARD_DATA_DIR"] = "/nonexistent" };
            var result = await Cli.RunAsync(env, null, "--username", broker.Server.Username, "--password-file", file, "catalog");
            result.ExitCode.ShouldBe(0, result.ToString());
            result.Stdout.ShouldContain("redis");

            File.WriteAllText(file, "wrong-" + broker.Server.Password);
            var wrong = await Cli.RunAsync(env, null, "--username", broker.Server.Username, "--password-file", file, "catalog");
            wrong.ExitCode.ShouldNotBe(0, wrong.ToString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    private Dictionary<string, string?> Broker() => new() { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = broker.Server.Username, ["STEWARD_PASSWORD"] = broker.Server.Password };
}

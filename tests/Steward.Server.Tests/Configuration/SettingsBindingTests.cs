using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Steward.Catalog;
using Steward.Server.Backups;
using Steward.Server.Configuration;

namespace Steward.Server.Tests.Configuration;

/// <summary>The broker's own configuration pipeline, in process: sources, precedence, typed values and refusals.</summary>
public sealed class SettingsBindingTests
{
    [Theory]
    [InlineData("20000-19999")]
    [InlineData("80-90")]
    [InlineData("20000")]
    [InlineData("a-b")]
    [InlineData("20000-70000")]
    public void An_invalid_port_range_is_refused_with_its_name_and_allowed_values(string range)
    {
        var (_, problems) = Configure(["--data-dir", "/tmp/x", "--port-range", range], []);
        problems.ShouldHaveSingleItem().ShouldStartWith($"STEWARD_PORT_RANGE (--port-range, or PortRange in the --config file) = '{range}'");
        problems[0].ShouldEndWith("allowed: MIN-MAX with 1024 ≤ MIN ≤ MAX ≤ 65535");
    }

    [Fact]
    public void The_command_line_overrides_the_environment_which_overrides_the_defaults()
    {
        var (options, problems) = Configure(
            ["--data-dir", "/tmp/steward-x", "--port-range=40000-40100"],
            new() { ["STEWARD_PORT_RANGE"] = "30000-30100", ["STEWARD_LISTEN"] = "http://127.0.0.1:1234", ["STEWARD_HEALTH_INTERVAL_MS"] = "250" });
        problems.ShouldBeEmpty();
        options!.DataDir.ShouldBe("/tmp/steward-x");
        options.InstancePorts.ShouldBe((40000, 40100));
        options.Listen.ShouldBe("http://127.0.0.1:1234");
        options.ServiceUser.ShouldBe("steward");
        options.StateFile.ShouldBe("/tmp/steward-x/steward.db");
        options.Supervision.Apply(new HealthCheckPolicy()).Interval.ShouldBe(TimeSpan.FromMilliseconds(250));
        options.Supervision.Apply(new HealthCheckPolicy()).Timeout.ShouldBe(new HealthCheckPolicy().Timeout, "unset overrides keep the plan's value");
    }

    [Fact]
    public void A_relative_data_directory_is_made_absolute_and_empty_variables_count_as_unset()
    {
        var (options, problems) = Configure(["--data-dir", "state"], new() { ["STEWARD_LISTEN"] = "", ["STEWARD_BACKUP_COMPRESSION"] = "" });
        problems.ShouldBeEmpty();
        options!.DataDir.ShouldBe(Path.GetFullPath("state"));
        options.Listen.ShouldBe("http://127.0.0.1:8090");
    }

    [Fact]
    public void A_broker_password_without_a_user_name_is_refused_without_echoing_it()
    {
        var (_, problems) = Configure([], new() { ["STEWARD_BROKER_PASSWORD"] = "s3cret-value" });
        problems.ShouldHaveSingleItem().ShouldStartWith("STEWARD_BROKER_USERNAME");
        problems[0].ShouldContain("set together");
        string.Join('\n', problems).ShouldNotContain("s3cret-value");
    }

    [Fact]
    public void A_secret_is_not_taken_from_the_command_line()
    {
        var (_, problems) = Configure(["--broker-password", "visible-in-ps"], []);
        problems.ShouldContain(p => p.StartsWith("unknown option --broker-password", StringComparison.Ordinal));
    }

    private static (StewardOptions? Options, IReadOnlyList<string> Problems) Configure(string[] args, Dictionary<string, string> environment)
    {
        var (configuration, problems) = StewardConfiguration.Load(args, environment);
        if (problems.Count > 0)
        {
            return (null, problems);
        }

        var services = new ServiceCollection();
        services.AddSettings<StewardOptions>(configuration);
        services.AddSettings<SupervisionOverrides>(configuration);
        services.AddSettings<BackupOptions>(configuration);
        using var provider = services.BuildServiceProvider();
        var invalid = provider.InvalidSettings();
        return invalid.Count > 0
            ? (null, invalid)
            : (provider.GetRequiredService<IOptions<StewardOptions>>().Value with { Supervision = provider.GetRequiredService<IOptions<SupervisionOverrides>>().Value }, []);
    }
}

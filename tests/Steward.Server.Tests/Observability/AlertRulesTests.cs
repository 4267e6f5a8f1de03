using Steward.Backup.Tests.Infrastructure;

namespace Steward.Server.Tests.Observability;

/// <summary>The example alert rules in docs/ are valid Prometheus rules and fire on the series they are written for.</summary>
public sealed class AlertRulesTests
{
    private static string Rules => Path.Combine(RepositoryRoot.Path, "docs", "prometheus", "alerts.yml");

    [Fact]
    public async Task The_example_alert_rules_pass_promtool_check_rules()
    {
        var result = await Promtool.RunAsync("check", "rules", Rules);
        result.ExitCode.ShouldBe(0, result.Stderr);
        System.Text.Encoding.UTF8.GetString(result.Stdout).ShouldContain("SUCCESS: 11 rules found");
    }

    [Fact]
    public async Task Each_example_alert_fires_on_its_failure_and_not_on_healthy_instances()
    {
        var result = await Promtool.RunAsync("test", "rules", Path.Combine(RepositoryRoot.Path, "docs", "prometheus", "alerts.test.yml"));
        result.ExitCode.ShouldBe(0, System.Text.Encoding.UTF8.GetString(result.Stdout) + result.Stderr);
    }
}

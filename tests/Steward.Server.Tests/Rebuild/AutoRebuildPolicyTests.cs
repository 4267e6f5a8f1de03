using Microsoft.Extensions.DependencyInjection;
using Steward.Server.Configuration;
using Steward.Server.Rebuild;
using Steward.Supervision;

namespace Steward.Server.Tests.Rebuild;

/// <summary>Each rule of the automatic rebuild on its own: the plan, the class, the budget, the age of the data, and the settings.</summary>
public sealed class AutoRebuildPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static readonly AutoRebuildPolicy Policy = new(new AutoRebuildOptions { Plans = "postgresql/standalone, redis/standalone", Classes = "data-corruption,config-error", Budget = 2, WindowHours = 24, MaxBackupAgeHours = 6 });

    [Fact]
    public void Only_the_plans_that_opted_in_are_considered()
    {
        Policy.OptedIn("postgresql/standalone").ShouldBeTrue();
        Policy.OptedIn("redis/standalone").ShouldBeTrue();
        Policy.OptedIn("postgresql/ha").ShouldBeFalse();
        new AutoRebuildPolicy(new AutoRebuildOptions()).OptedIn("postgresql/standalone").ShouldBeFalse("off by default");
    }

    [Fact]
    public void A_safe_class_with_recent_data_and_budget_left_is_rebuilt()
    {
        var quarantine = Quarantine(FailureClass.DataCorruption);
        Policy.WhyNot(quarantine, [quarantine], Now.AddHours(-1), Now).ShouldBeNull();
        Policy.WhyNot(Quarantine(FailureClass.ConfigError), [], Now.AddHours(-5.9), Now).ShouldBeNull();
    }

    [Fact]
    public void A_class_not_listed_stays_with_a_person()
    {
        Policy.WhyNot(Quarantine(FailureClass.KilledBySignal), [], Now, Now)!.ShouldContain("killed-by-signal is not rebuilt automatically");
    }

    [Fact]
    public void No_backup_or_one_older_than_allowed_stays_with_a_person()
    {
        Policy.WhyNot(Quarantine(FailureClass.DataCorruption), [], null, Now)!.ShouldContain("there is no backup");
        Policy.WhyNot(Quarantine(FailureClass.DataCorruption), [], Now.AddHours(-6.1), Now)!.ShouldContain("older than 6 h");
    }

    [Fact]
    public void The_budget_counts_automatic_rebuilds_of_every_incident_within_the_window()
    {
        var earlier = Quarantine(FailureClass.DataCorruption).With(Now.AddHours(-30), AutoRebuildPolicy.Started, "outside the window");
        var one = Quarantine(FailureClass.DataCorruption).With(Now.AddHours(-3), AutoRebuildPolicy.Started, "first");
        var current = Quarantine(FailureClass.DataCorruption);
        Policy.WhyNot(current, [earlier, one, current], Now.AddMinutes(-5), Now).ShouldBeNull("one of two used within 24 h");
        var two = current.With(Now.AddMinutes(-1), AutoRebuildPolicy.Started, "second");
        Policy.WhyNot(two, [earlier, one, two], Now.AddMinutes(-5), Now)!.ShouldContain("budget of 2 automatic rebuild(s) within 24 h is spent (2 done)");
    }

    [Theory]
    [InlineData("STEWARD_AUTO_REBUILD_PLANS", "postgresql", "is not a service/plan name")]
    [InlineData("STEWARD_AUTO_REBUILD_CLASSES", "data-corruption,disk-ful", "'disk-ful' is not a failure class")]
    [InlineData("STEWARD_AUTO_REBUILD_BUDGET", "0", "STEWARD_AUTO_REBUILD_BUDGET")]
    public void Settings_that_cannot_work_are_refused_at_start(string name, string value, string expected)
    {
        var (configuration, problems) = StewardConfiguration.Load([], new Dictionary<string, string> { [name] = value });
        problems.ShouldBeEmpty();
        var services = new ServiceCollection();
        services.AddSettings<AutoRebuildOptions>(configuration);
        using var provider = services.BuildServiceProvider();
        string.Join("\n", provider.InvalidSettings()).ShouldContain(expected);
    }

    private static Incident Quarantine(FailureClass c) => new()
    {
        Id = "inc-" + Guid.NewGuid().ToString("N")[..8],
        InstanceId = "i1",
        Class = c,
        State = IncidentState.Quarantined,
        Summary = "quarantined",
        OpenedAt = Now.AddMinutes(-2),
        UpdatedAt = Now.AddMinutes(-2),
    };
}

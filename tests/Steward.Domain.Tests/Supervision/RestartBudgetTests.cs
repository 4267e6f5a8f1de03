using Steward.Catalog;
using Steward.Supervision;

namespace Steward.Domain.Tests.Supervision;

public sealed class RestartBudgetTests
{
    private readonly ManualTimeProvider _time = new();

    private RestartBudget Budget(int max = 5) => new(new HealthCheckPolicy
    {
        MaxRestarts = max,
        RestartWindow = TimeSpan.FromSeconds(300),
        BackoffBase = TimeSpan.FromSeconds(1),
        BackoffMax = TimeSpan.FromSeconds(10),
    }, _time);

    [Fact]
    public void Restarts_back_off_exponentially_up_to_the_cap()
    {
        var budget = Budget();
        var delays = Enumerable.Range(0, 5).Select(_ => budget.TryTake()!.Value.TotalSeconds).ToList();
        delays.ShouldBe([1, 2, 4, 8, 10]);
    }

    [Fact]
    public void The_budget_is_spent_after_the_limit_within_the_window()
    {
        var budget = Budget(max: 3);
        budget.TryTake().ShouldNotBeNull();
        budget.TryTake().ShouldNotBeNull();
        budget.TryTake().ShouldNotBeNull();
        budget.TryTake().ShouldBeNull();
        budget.Used.ShouldBe(3);
    }

    [Fact]
    public void Flapping_does_not_reset_the_count_only_time_does()
    {
        // A server that comes up, looks healthy for a minute and dies again, five times over four minutes.
        var budget = Budget(max: 5);
        for (var i = 0; i < 5; i++)
        {
            budget.TryTake().ShouldNotBeNull();
            _time.Advance(TimeSpan.FromSeconds(59));
        }

        budget.TryTake().ShouldBeNull("five restarts within 300 s, healthy minutes in between or not");
    }

    [Fact]
    public void Restarts_older_than_the_window_free_the_budget_again()
    {
        var budget = Budget(max: 2);
        budget.TryTake();
        _time.Advance(TimeSpan.FromSeconds(200));
        budget.TryTake();
        budget.TryTake().ShouldBeNull();
        _time.Advance(TimeSpan.FromSeconds(100));
        budget.Used.ShouldBe(1);
        budget.TryTake().ShouldBe(TimeSpan.FromSeconds(2), "one restart is still in the window, so the backoff has doubled once");
    }

    [Theory]
    [InlineData(FailureClass.ConfigError, false)]
    [InlineData(FailureClass.DataCorruption, false)]
    [InlineData(FailureClass.DiskFull, false)]
    [InlineData(FailureClass.PortConflict, false)]
    [InlineData(FailureClass.KilledBySignal, true)]
    [InlineData(FailureClass.OomKilled, true)]
    [InlineData(FailureClass.UnhealthyButRunning, true)]
    [InlineData(FailureClass.StartupTimeout, true)]
    [InlineData(FailureClass.Unknown, true)]
    public void Only_failures_a_restart_can_fix_are_restarted(FailureClass failure, bool restartable) =>
        failure.IsRestartable().ShouldBe(restartable);

    [Fact]
    public void Every_class_has_a_kebab_case_name()
    {
        Enum.GetValues<FailureClass>().Select(c => c.Name()).ShouldBe(
            ["config-error", "data-corruption", "disk-full", "oom-killed", "killed-by-signal", "port-conflict", "startup-timeout", "process-stopped", "unhealthy-but-running", "backup-failed", "wal-archive-behind", "backup-not-restorable", "unknown"]);
    }
}

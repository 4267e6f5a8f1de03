using Microsoft.Extensions.Time.Testing;
using Steward.Server.StateStore;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.StateStore;

/// <summary>
/// The broker lease on a real store, timed by fake clocks: one holder at a time, a standby takes over only after the
/// holder has not renewed for the lease's whole duration by the standby's own clock, and the old holder learns it lost.
/// </summary>
public sealed class BrokerLeaseTests(StatePostgres postgres) : StoreTests(postgres)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(15);

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_standby_takes_over_only_when_the_holder_stopped_renewing_for_the_whole_duration(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        var clockA = new FakeTimeProvider();
        var clockB = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(40));
        var a = new LeaseKeeper(store, clockA, Duration, "broker-a");
        var b = new LeaseKeeper(store, clockB, Duration, "broker-b");

        (await a.TryTakeAsync(default)).ShouldBeTrue("the first broker finds the lease free");
        (await b.TryTakeAsync(default)).ShouldBeFalse();
        b.ObservedHolder.ShouldBe("broker-a");

        // A renews; B's clock runs far past the duration in all, but never a whole duration without seeing a renewal.
        for (var n = 0; n < 4; n++)
        {
            clockB.Advance(Duration * 3 / 4);
            (await a.RenewAsync(default)).ShouldBeTrue();
            (await b.TryTakeAsync(default)).ShouldBeFalse($"renewed {n + 1} times: still held");
        }

        // A stops renewing (killed): B takes over after one whole duration, not before.
        clockB.Advance(Duration - TimeSpan.FromSeconds(1));
        (await b.TryTakeAsync(default)).ShouldBeFalse();
        clockB.Advance(TimeSpan.FromSeconds(1));
        (await b.TryTakeAsync(default)).ShouldBeTrue();
        b.Held!.Epoch.ShouldBe(a.Held!.Epoch + 1, "a new term");

        (await a.RenewAsync(default)).ShouldBeFalse("the old holder learns at its next renewal that it lost the lease");
        (await a.TryTakeAsync(default)).ShouldBeFalse("and cannot take it back while B renews");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_lease_given_up_at_a_graceful_stop_is_taken_at_the_next_look(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        var clock = new FakeTimeProvider();
        var a = new LeaseKeeper(store, clock, Duration, "broker-a");
        var b = new LeaseKeeper(store, clock, Duration, "broker-b");
        (await a.TryTakeAsync(default)).ShouldBeTrue();
        (await b.TryTakeAsync(default)).ShouldBeFalse();

        await a.ReleaseAsync(default);
        (await b.TryTakeAsync(default)).ShouldBeTrue("no need to wait out the duration");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Two_standbys_that_see_the_holder_expire_together_do_not_both_take_the_lease(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        var clock = new FakeTimeProvider();
        var a = new LeaseKeeper(store, clock, Duration, "broker-a");
        (await a.TryTakeAsync(default)).ShouldBeTrue();
        var standbys = Enumerable.Range(0, 6).Select(n => new LeaseKeeper(store, clock, Duration, $"standby-{n}")).ToList();
        foreach (var s in standbys)
        {
            (await s.TryTakeAsync(default)).ShouldBeFalse();
        }

        clock.Advance(Duration);
        var took = await Task.WhenAll(standbys.Select(s => Task.Run(() => s.TryTakeAsync(default))));
        took.Count(t => t).ShouldBe(1, "compare-and-set on the term: one winner");
    }
}

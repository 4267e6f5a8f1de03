using Steward.Wal;

namespace Steward.Domain.Tests.Wal;

public sealed class TimelineHistoryTests
{
    [Fact]
    public void A_history_file_gives_each_parent_and_where_it_was_left_oldest_first()
    {
        // As PostgreSQL writes it (tab-separated, a reason per line), with a comment and a blank line a tool may add.
        const string history = "1\t0/7000000\tno recovery target specified\n\n# a note\n2\t1/A0000028\tbefore 2026-11-30 12:00:00+00\n3 2/B 3\n";

        TimelineHistory.Parse(history).ShouldBe([new TimelineSwitch(1, 0x7000000), new TimelineSwitch(2, 0x1_A000_0028), new TimelineSwitch(3, 0x2_0000_000B)]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("x\t0/7000000\n")]
    [InlineData("1\tnot-an-lsn\n")]
    [InlineData("1\n")]
    public void Lines_that_are_not_switches_are_skipped(string history) => TimelineHistory.Parse(history).ShouldBeEmpty();
}

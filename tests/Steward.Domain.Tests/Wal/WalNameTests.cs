using Steward.Wal;

namespace Steward.Domain.Tests.Wal;

public sealed class WalNameTests
{
    [Theory]
    [InlineData(1, "0/3000028", "000000010000000000000003")]
    [InlineData(2, "1/A0000028", "0000000200000001000000A0")]
    [InlineData(3, "0/0", "000000030000000000000000")]
    public void The_segment_holding_an_lsn_is_named_as_PostgreSQL_names_it(int timeline, string lsn, string name)
    {
        var segment = WalName.SegmentHolding(timeline, Lsn.Parse(lsn));

        segment.Name.ShouldBe(name);
        WalName.Parse(name).ShouldBe(segment);
    }
}
